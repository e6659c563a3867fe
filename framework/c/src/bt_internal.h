/*
 * bt_internal.h - what the fast engine's loop (backtest.c) shares with its strategy kernels
 * (bt_kernels.c).
 */
#ifndef ASK_BT_INTERNAL_H
#define ASK_BT_INTERNAL_H

#include "ask_internal.h"
#include "asirikuy_backtest.h"

/* translate.py's rounding of a price to the instrument's points (backtest.c). */
long long ask_price_points(double x, int digits, double scale);
long long ask_pow10ll(int n);

/*
 * A kernel makes the decisions of one of our strategies with indicators carried from bar to bar
 * (ask_incremental.h) instead of recomputed over every window, and writes the very result rows the
 * strategy function would write for that window: where an incremental value could decide
 * differently from the window's value (a tie, a bound not yet small enough, a rounding edge), it
 * computes the window's value as the strategy does. ask_kernel_scan(k, from, to) absorbs the bars closed
 * by each tested bar from `from` on and makes the decisions that do not depend on the book, up to the
 * first bar at which the strategy may write a row (returned; to + 1 when none): the bars before it are
 * ones where the strategy writes nothing whatever the book. The loop then fills ctx for that bar as for
 * the strategy call and calls ask_kernel_step, which writes the rows.
 */
typedef struct AskKernel AskKernel;

/* NULL when the strategy has no kernel or its settings/windows would fail the strategy's own checks
 * (the loop then calls the strategy function, which reports them); *oom set when out of memory. */
AskKernel* ask_kernel_new(const AskContext* ctx, const AskBtInput* in, int* oom);
int ask_kernel_scan(AskKernel* k, int from, int to);
int ask_kernel_step(AskKernel* k, AskContext* ctx);
void ask_kernel_free(AskKernel* k);

#endif /* ASK_BT_INTERNAL_H */
