/*
 * asirikuy_backtest.h - our own API next to the ABI: the fast backtest engine.
 *
 * asirikuy_backtest_run replays bars through the same strategy functions as
 * c_runStrategy (same AskContext), translates their rows into orders with the
 * rules of trading/services/execution/translate.py and simulates them with the
 * rules of backtests/engine/broker.py (the paper broker's bar rules plus
 * costs). On the same inputs it produces exactly the trades of the Python
 * parity engine (tests/backtests/test_backtest_parity_vs_fast.py).
 *
 * Prices of the primary series are integer points; money is double.
 */
#ifndef ASIRIKUY_BACKTEST_H
#define ASIRIKUY_BACKTEST_H

#include "asirikuy_framework.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct AskBtSlot {
  CRates* bars;                 /* count closed bars + 1 spare element (written and restored) */
  const long long* close_time;  /* per slot bar: time the forming bar after it opens */
  const int* closed_end;        /* per primary bar: closed slot bars available at its close */
  int count;
  int window;                   /* closed bars per window (the forming bar is added) */
  int timeframe;
  int digits;
  double point;
  int same_instrument;          /* forming bar at the bid, else at the last closed close */
  int primary_points;           /* 1: slot bar j is primary bar j, its open/high/low/close exactly the
                                 * primary series' points / 10^digits, for every j < count (the caller's
                                 * word): the kernels read the int64 series (8 bytes a value) instead of
                                 * the bars (48 bytes each). 0: not known (always safe). */
} AskBtSlot;

typedef struct AskBtInput {
  double settings[ASK_SETTINGS_COUNT];
  const long long* time_open;   /* per primary bar, UTC epoch seconds */
  const long long* close_time;  /* per primary bar, framework time of its close */
  const long long* open;        /* points */
  const long long* high;
  const long long* low;
  const long long* close;
  const long long* spread;
  AskBtSlot slots[ASK_RATES_SLOTS];
  long long contract_size_e4;
  long long min_units_ticks;
  long long slippage;           /* points */
  long long min_stop;           /* points */
  double contract_size;
  double fixed_rate;
  double initial_balance;
  double commission_per_lot;
  double swap_long;
  double swap_short;
  int n_bars;
  int first;
  int last;
  int slot_count;
  int digits;
  int unit_precision;           /* 0..6 */
  int rate_mode;                /* 0 fixed rate, 1 = 1 / price */
  int min_stop_widen;
} AskBtInput;

typedef struct AskBtTrade {
  long long ticket, side, order_type, units_ticks, open_time, close_time, open_price, close_price,
      stop_loss, take_profit, reason;
  double units, pl, commission, swap, profit;
} AskBtTrade;

typedef struct AskBtOutput {
  long long* time;              /* caller-allocated, last - first + 1 each; time may be NULL (it
                                 * would only repeat close_time[first..]) */
  double* balance;
  double* equity;
  unsigned char* in_market;
  AskBtTrade* trades;           /* allocated by the library: free with asirikuy_backtest_free */
  int trade_count;
  int bars_done;
  int rejected;
  int stopped_out;
  int dropped;                  /* actions the strategy asked for that were not written (ASK_DROP_*) */
  int pad_;
} AskBtOutput;

/* Returns SUCCESS, a strategy's error code, INVALID_PARAMETER or INSUFFICIENT_MEMORY.
 * Our strategies run through their kernels (src/bt_kernels.c): the same decisions and result rows as
 * the strategy function over each bar's window, with indicators carried from bar to bar (O(1) per bar);
 * any other strategy id, or settings the strategy would refuse, calls the strategy function per bar. */
ASK_EXPORT int ASK_API asirikuy_backtest_run(const AskBtInput* in, AskBtOutput* out);

/* options: ASK_BT_WINDOW_CALLS calls the strategy function over every bar's window even where a
 * kernel exists (the tests hold both ways to the same trades). Unknown bits: INVALID_PARAMETER. */
#define ASK_BT_WINDOW_CALLS 1
ASK_EXPORT int ASK_API asirikuy_backtest_run_options(const AskBtInput* in, AskBtOutput* out,
                                                     int options);

/* An incremental indicator over a whole series (ask_incremental.h): out[j] = its value after
 * absorbing bars 0..j, NaN before it is defined. kind: ASK_IND_EMA, _ATR, _RSI, _DONCHIAN_HIGH,
 * _DONCHIAN_LOW (others INVALID_PARAMETER). Bit for bit asirikuy_indicator over the same bars. */
ASK_EXPORT int ASK_API asirikuy_indicator_incremental(int kind, const CRates* pRates, int count,
                                                      int period, double param, double* pOut);
ASK_EXPORT void ASK_API asirikuy_backtest_free(AskBtTrade* trades);

#ifdef __cplusplus
}
#endif

#endif /* ASIRIKUY_BACKTEST_H */
