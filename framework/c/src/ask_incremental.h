/*
 * ask_incremental.h - indicators carried from bar to bar: O(1) work per bar.
 *
 * Each state absorbs the bars of one series in order (j = 0, 1, 2, ...) and holds the indicator's
 * value over the whole history absorbed so far: the full-history value of the warm-up rule
 * (framework/warmup.py), bit for bit what asirikuy_indicator gives over the same bars, because each
 * step is indicators.c's step (same seed, same expression, same order). A window's value (what a
 * stateless call computes, live and in the parity engine) differs from it by the seed's remaining
 * weight; the fast engine's kernels bound that difference and recompute on the window only when a
 * decision lies inside the bound (bt_kernels.c).
 */
#ifndef ASK_INCREMENTAL_H
#define ASK_INCREMENTAL_H

#include <math.h>

#include "ask_internal.h"

/* EMA of close: seeded at j = period - 1 with the SMA of the first period closes (ask_sma, the same
 * window sum as ask_ema's seed), then value = a * close + (1 - a) * value. */
typedef struct AskIncEma {
  double alpha, value;
  int period;
} AskIncEma;

static inline void ask_inc_ema_init(AskIncEma* e, int period) {
  e->period = period;
  e->alpha = 2.0 / (period + 1.0);
  e->value = NAN;
}

static inline void ask_inc_ema_push(AskIncEma* e, const CRates* bars, int j) {
  if (j < e->period - 1) return;
  if (j == e->period - 1) {
    ask_sma(bars, j, e->period, &e->value, 1);
    return;
  }
  e->value = e->alpha * bars[j].close + (1.0 - e->alpha) * e->value;
}

/* Wilder ATR: mean of TR[1..period] at j = period, then (value * (period - 1) + TR) / period.
 * max_tr is the largest true range absorbed (the kernels' bound on a seed's error). */
typedef struct AskIncAtr {
  double sum, value, max_tr;
  int period;
} AskIncAtr;

static inline void ask_inc_atr_init(AskIncAtr* a, int period) {
  a->period = period;
  a->sum = 0.0;
  a->value = NAN;
  a->max_tr = 0.0;
}

/* indicators.c's true range, expression for expression (inline: it runs once per bar). */
static inline double ask_inc_true_range(const CRates* bars, int i) {
  double prev = bars[i - 1].close;
  double tr = bars[i].high - bars[i].low;
  double up = fabs(bars[i].high - prev);
  double down = fabs(bars[i].low - prev);
  if (up > tr) tr = up;
  if (down > tr) tr = down;
  return tr;
}

static inline void ask_inc_atr_push(AskIncAtr* a, const CRates* bars, int j) {
  if (j < 1) return;
  double tr = ask_inc_true_range(bars, j);
  if (tr > a->max_tr) a->max_tr = tr;
  if (j < a->period) {
    a->sum += tr;
  } else if (j == a->period) {
    a->sum += tr;
    a->value = a->sum / a->period;
  } else {
    a->value = (a->value * (a->period - 1) + tr) / a->period;
  }
}

/* Wilder RSI: gain/loss means over the first period changes, then Wilder averages (ask_rsi).
 * max_move is the largest |close change| absorbed. */
typedef struct AskIncRsi {
  double gain, loss, max_move;
  int period;
} AskIncRsi;

static inline void ask_inc_rsi_init(AskIncRsi* r, int period) {
  r->period = period;
  r->gain = r->loss = r->max_move = 0.0;
}

static inline void ask_inc_rsi_push(AskIncRsi* r, const CRates* bars, int j) {
  if (j < 1) return;
  double d = bars[j].close - bars[j - 1].close;
  if (fabs(d) > r->max_move) r->max_move = fabs(d);
  if (j <= r->period) {
    if (d > 0) r->gain += d;
    else r->loss -= d;
    if (j == r->period) {
      r->gain /= r->period;
      r->loss /= r->period;
    }
    return;
  }
  double g = d > 0 ? d : 0.0;
  double l = d < 0 ? -d : 0.0;
  r->gain = (r->gain * (r->period - 1) + g) / r->period;
  r->loss = (r->loss * (r->period - 1) + l) / r->period;
}

static inline double ask_inc_rsi_value(const AskIncRsi* r) { return ask_rsi_value(r->gain, r->loss); }

/* Donchian high and low of the last period bars: two monotone deques of bar indices (each bar enters
 * and leaves once). The values are max/min of the same doubles as ask_donchian's loop: identical. */
typedef struct AskIncDonchian {
  int* hi; /* ring buffers of capacity period */
  int* lo;
  int hi_head, hi_len, lo_head, lo_len, period;
} AskIncDonchian;

int ask_inc_donchian_init(AskIncDonchian* d, int period); /* 0 when out of memory */
void ask_inc_donchian_free(AskIncDonchian* d);
void ask_inc_donchian_push(AskIncDonchian* d, const CRates* bars, int j);
static inline double ask_inc_donchian_high(const AskIncDonchian* d, const CRates* bars) {
  return bars[d->hi[d->hi_head]].high;
}
static inline double ask_inc_donchian_low(const AskIncDonchian* d, const CRates* bars) {
  return bars[d->lo[d->lo_head]].low;
}

#endif /* ASK_INCREMENTAL_H */
