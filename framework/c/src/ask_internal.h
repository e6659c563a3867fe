/*
 * ask_internal.h - internal context, indicators and trading helpers.
 *
 * Every strategy is a pure function over an AskContext: it reads rate views,
 * orders, settings and prices from the context and writes result rows through
 * the helpers in trade.c. A future backtest loop can build the context itself
 * and call the same strategy functions.
 */
#ifndef ASK_INTERNAL_H
#define ASK_INTERNAL_H

#include "asirikuy_framework.h"

/* A read-only view of one rates slot: bars[0] oldest, bars[count-1] the
 * current, still-forming bar. Indicators only use bars[0..count-2]. */
typedef struct AskRatesView {
  const CRates* bars;
  int count;
  int enabled;
  int timeframe; /* minutes (the required timeframe after resampling) */
  double point;
  int digits;
} AskRatesView;

typedef struct AskContext {
  const double* settings;
  int instance_id;
  int strategy_id;
  int timeframe;
  int operational_mode;
  int max_open_orders;

  const COrderInfo* orders;
  int order_count;

  double bid;
  double ask;
  double quote_conversion; /* value of one quote-currency unit in account currency */
  double equity;           /* sizing base: equity or ORIGINAL_EQUITY */
  double contract_size;
  double minimum_stop;

  int current_time;     /* broker time as passed */
  long long ref_offset; /* seconds to add to broker time to get reference-broker time */

  AskRatesView slots[ASK_RATES_SLOTS];

  int entry_block; /* 0 = entries allowed, else the ASK_DROP_* reason they are not */
  int open_count[6];   /* open orders per OrderType, minus those closed this call */

  StrategyResults* results;
  int result_rows;
  int rows_used;

  int drops[ASK_MAX_DROPS][3]; /* (signal bit, order type, reason) of actions not written */
  int drop_count;              /* may exceed ASK_MAX_DROPS; only the first ones are kept */
} AskContext;

typedef int (*AskStrategyFn)(AskContext* ctx);

/* ---- indicators.c ------------------------------------------------------ */
/* Each writes out[0..tail-1] = indicator values at bar indices
 * end-tail+1 .. end (inclusive), using only bars[0..end]. NaN where undefined.
 * Callers guarantee 0 <= end, tail >= 1, period >= 1. */
void ask_sma(const CRates* bars, int end, int period, double* out, int tail);
void ask_ema(const CRates* bars, int end, int period, double* out, int tail);
void ask_atr(const CRates* bars, int end, int period, double* out, int tail);
void ask_rsi(const CRates* bars, int end, int period, double* out, int tail);
void ask_bollinger(const CRates* bars, int end, int period, double k, double* upper,
                   double* middle, double* lower, int tail);
void ask_donchian(const CRates* bars, int end, int period, double* high, double* low, int tail);
/* The per-bar steps of ask_atr and ask_rsi (the incremental indicators repeat them bit for bit). */
double ask_true_range(const CRates* bars, int i);
double ask_rsi_value(double gain, double loss);
/* kind: ASK_IND_*; the last `tail` values of the series over bars[0..end] (asirikuy_indicator). */
int ask_indicator_tail(int kind, const CRates* bars, int end, int period, double param, double* out,
                       int tail);

/* ---- trade.c ----------------------------------------------------------- */
/* The setting readers are inline: every strategy checks its settings on every call (once per bar,
 * a million times in a fast backtest), and a call per setting cost more than the check itself. */
static inline double ask_param(const AskContext* ctx, int index) { return ctx->settings[index]; }

/* Read settings[index] as an integer in [lo, hi]; 0 on success, else
 * INVALID_PARAMETER (non-integral or out of bounds). In range first, so the int conversion is
 * defined; it gives back v exactly when v is integral. */
static inline int ask_int_setting(const AskContext* ctx, int index, int lo, int hi, int* out) {
  double v = ctx->settings[index];
  if (!(v >= lo && v <= hi) || (double)(int)v != v) return INVALID_PARAMETER;
  *out = (int)v;
  return SUCCESS;
}

/* Read settings[index] as a real in [lo, hi]; 0 or INVALID_PARAMETER. */
static inline int ask_real_setting(const AskContext* ctx, int index, double lo, double hi,
                                   double* out) {
  double v = ctx->settings[index];
  if (!(v >= lo && v <= hi)) return INVALID_PARAMETER;
  *out = v;
  return SUCCESS;
}

/* SL_ATR_MULTIPLIER [0,100], TP_ATR_MULTIPLIER [0,100], ATR_AVERAGING_PERIOD [1,1000]. */
static inline int ask_atr_settings(const AskContext* ctx, double* sl_mult, double* tp_mult,
                                   int* period) {
  if (ask_real_setting(ctx, SL_ATR_MULTIPLIER, 0.0, 100.0, sl_mult) ||
      ask_real_setting(ctx, TP_ATR_MULTIPLIER, 0.0, 100.0, tp_mult) ||
      ask_int_setting(ctx, ATR_AVERAGING_PERIOD, 1, 1000, period))
    return INVALID_PARAMETER;
  return SUCCESS;
}
int ask_open_orders_total(const AskContext* ctx);
/* 0 when an entry may be emitted, else the ASK_DROP_* reason it may not. */
int ask_entry_block(const AskContext* ctx);
double ask_lots(const AskContext* ctx, double sl_distance, double atr);
/* All of these return 1 when a row was written, 0 when the action was dropped (recorded in
 * ctx->drops with its reason). An entry that finds every row taken shares the row of a close
 * (a stop-and-reverse: one row, the close's ticket, both bits; callers run closes first). */
int ask_emit_open_market(AskContext* ctx, int order_type, double sl, double tp, double atr);
int ask_emit_open_pending(AskContext* ctx, int order_type, double price, double sl, double tp,
                          double atr, double expiration);
int ask_emit_close(AskContext* ctx, int order_type, double ticket);
int ask_emit_update(AskContext* ctx, int order_type, double ticket, double sl, double tp,
                    int trailing);
/* Close every open order older than TIMED_EXIT_BARS primary bars, by ticket. */
void ask_apply_timed_exit(AskContext* ctx);

/* ---- strategies -------------------------------------------------------- */
int ask_strategy_record_bars(AskContext* ctx);
int ask_strategy_ma_crossover(AskContext* ctx);
int ask_strategy_channel_breakout(AskContext* ctx);
int ask_strategy_mean_reversion(AskContext* ctx);

/* ---- timezone.c -------------------------------------------------------- */
/* UTC offset in seconds of a broker (by name) at broker wall-clock time t.
 * Returns 0 on success, -1 for an unknown name. */
int ask_broker_utc_offset(const char* name, long long t, long long* offset);

/* ---- sync.c ------------------------------------------------------------ */
void ask_lock(void);
void ask_unlock(void);

#endif /* ASK_INTERNAL_H */
