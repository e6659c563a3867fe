/*
 * bt_kernels.c - the fast engine's strategy kernels: the decisions of our C strategies with their
 * indicators carried from bar to bar (ask_incremental.h: O(1) per bar, full-history values) instead of
 * recomputed over each bar's window, writing the result rows the strategy function would write.
 *
 * Why the rows are the strategy's: a strategy compares window values (an SMA of a window's closes,
 * an EMA or Wilder average seeded at the window's first bar). The kernels know how far their value can
 * be from the window's: an SMA from exact integer sums of the closes in points is within the window
 * sum's rounding of it; an EMA/ATR/RSI over the full history is within (seed error) x (decay per
 * bar)^(bars since the window's seed) of it, the seed error being at most the range of what is
 * averaged. A comparison farther apart than that bound is decided the same way; one inside it (a tie,
 * a window too short for its seed to have faded) is decided on the window's own value, computed as
 * the strategy computes it. An entry sized from the ATR is written from the full-history ATR only
 * when its integers (lots, stop and target in points) are the same at both ends of the ATR's bound
 * (each is monotone in the ATR), else from the window's ATR. tests/backtests/test_backtest_parity_vs_fast.py
 * holds both engines to identical trades, settled and unsettled windows alike.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ask_incremental.h"
#include "bt_internal.h"

#define U (DBL_EPSILON / 2.0) /* unit roundoff */

enum { LT = -1, EQ = 0, GT = 1, UNKNOWN = 2 };

static int cmp3(double a, double b) { return a > b ? GT : (a < b ? LT : EQ); }

/* Rounds to the nearest integer for |x| < 2^51 (the addition drops the fraction in round-to-nearest). */
#define ROUNDER 6755399441055744.0 /* 1.5 * 2^52 */

/* c * scale as integer points (an integer-valued double), when c sits on the point grid: then
 * |c - p / scale| <= 5u|c|. Points stay below 4e9 so that sums over periods up to 1000 and their
 * products with another period (below 2^53) are exact in doubles. */
static inline int point_of(double c, double scale, double* out) {
  double x = c * scale;
  if (!(fabs(x) < 4e9)) return 0;
  double p = (x + ROUNDER) - ROUNDER;
  if (fabs(x - p) > 4.0 * U * fabs(x)) return 0;
  *out = p;
  return 1;
}

/* Ring of the last closes in points, for running sums over periods up to `longest`. */
typedef struct PointRing {
  double* ring; /* zeros before the first close: a sum over fewer bars than its period reads them */
  int mask;
  int on_grid; /* every close absorbed was on the grid: the sums are exact */
  double scale;
} PointRing;

static int ring_init(PointRing* r, int longest, int digits) {
  int cap = 1;
  while (cap <= longest) cap *= 2;
  r->ring = (double*)calloc((size_t)cap, sizeof(double));
  r->mask = cap - 1;
  r->on_grid = digits >= 0 && digits <= 15;
  r->scale = r->on_grid ? (double)ask_pow10ll(digits) : 1.0;
  return r->ring != NULL;
}

/* |window ATR - full-history ATR| at the window's last closed bar: both are averages of true ranges
 * (the seeds differ by at most the largest one), the difference shrinks by (p - 1) / p per bar after the
 * window's seed (decay = that ^ bars), plus the rounding of both recursions. */
static double atr_bound(const AskIncAtr* a, double decay) {
  return a->max_tr * (decay * (1.0 + 1e-9) + 16.0 * (a->period + 2) * U);
}

/* (1 - 1/p)^k, or (1 - a)^k for an EMA: the seed's weight k bars after it. */
static double decay(double keep, int k) { return k <= 0 ? 1.0 : pow(keep, (double)k); }

/* The ATR as the strategy computes it over its window (view: the window's first bar). */
static double window_atr(const CRates* view, int window, int period) {
  double v;
  ask_atr(view, window - 1, period, &v, 1);
  return v;
}

/* An entry at entry_f (market: the ask or bid; pending: its price, rounded to points) becomes the same
 * integers for every ATR in [lo, hi]: lots (cents), stop and target in points. Each is monotone in the
 * ATR, so equal at both ends means equal in between. */
static int entry_settled(const AskContext* ctx, int digits, double scale, int buy, double entry_f,
                         double lo, double hi, double sl_mult, double tp_mult) {
  if (!(lo > 0.0) || !(hi < INFINITY)) return 0;
  if (ask_lots(ctx, sl_mult * lo, lo) != ask_lots(ctx, sl_mult * hi, hi)) return 0;
  double sign = buy ? 1.0 : -1.0;
  if (sl_mult > 0.0 && ask_price_points(entry_f - sign * sl_mult * lo, digits, scale) !=
                           ask_price_points(entry_f - sign * sl_mult * hi, digits, scale))
    return 0;
  if (tp_mult > 0.0 && ask_price_points(entry_f + sign * tp_mult * lo, digits, scale) !=
                           ask_price_points(entry_f + sign * tp_mult * hi, digits, scale))
    return 0;
  return 1;
}

/* ---- MA_CROSSOVER (strategy_ma_crossover.c) ----------------------------- */

typedef struct MaState {
  int fast, slow, ema, atr_period, window, next;
  double sl_mult, tp_mult;
  const CRates* bars;
  double max_abs; /* largest |close| absorbed */
  /* SMA: exact sums in points; cmp[1] = sign of fast - slow at bar next - 1, cmp[0] at next - 2 */
  PointRing pts;
  const AskBtInput* prim; /* the slot's bars as the primary series' points, when the caller vouches */
  double sum_f, sum_s, thr_coef, max_pts;
  int cmp[2];
  /* EMA: full-history values at next - 1 and next - 2, the range of closes, the seeds' weights */
  AskIncEma ef, es;
  double ef_prev, es_prev, lo_close, hi_close, decay_f[2], decay_s[2];
  AskIncAtr atr; /* advanced only when an entry needs it (atr_next: the next bar it absorbs) */
  double atr_decay, atr_keep, atr_share, peak_pts, price_slack;
  int atr_next;
  int cross; /* this bar's decision: GT cross up, LT cross down, EQ none */
} MaState;

/* The sign of SMA(fast) - SMA(slow) from the exact sums: D = sum_f * slow - sum_s * fast is that
 * difference times fast * slow * scale. Each window value is within (period / 4 + 3) u max|c| of its exact
 * mean (four-lane sum, the division) and the points within 5u|c| of the closes, so |D| above
 * thr_coef * max|c| (four times that margin) decides the comparison as the window values do. */
static inline int sma_cmp_fast(const MaState* m) {
  double d = m->sum_f * m->slow - m->sum_s * m->fast; /* exact: integers below 2^53 */
  if (fabs(d) > m->thr_coef * m->max_pts) return d > 0 ? GT : LT;
  return UNKNOWN;
}

/* The comparison as the strategy makes it: an SMA's window sum depends only on its closes, so the
 * value at series index j is the same in every window holding it. */
static int sma_cmp_window(const MaState* m, int j) {
  double f, s;
  ask_sma(m->bars, j, m->fast, &f, 1);
  ask_sma(m->bars, j, m->slow, &s, 1);
  return cmp3(f, s);
}

static void ma_absorb(MaState* m, int end) {
  const CRates* bars = m->bars;
  for (int j = m->next; j < end; ++j) {
    double c = m->prim ? 0.0 : bars[j].close; /* with points, the bars are not read at all */
    if (m->ema) {
      if (fabs(c) > m->max_abs) m->max_abs = fabs(c);
      ask_inc_atr_push(&m->atr, bars, j);
      if (c < m->lo_close) m->lo_close = c;
      if (c > m->hi_close) m->hi_close = c;
      m->ef_prev = m->ef.value;
      m->es_prev = m->es.value;
      ask_inc_ema_push(&m->ef, bars, j);
      ask_inc_ema_push(&m->es, bars, j);
      continue;
    }
    m->cmp[0] = m->cmp[1];
    m->cmp[1] = UNKNOWN;
    double p;
    if (m->prim) {
      p = (double)m->prim->close[j];
      if (!(fabs(p) < 4e9)) m->pts.on_grid = 0; /* too large for exact sums in doubles */
    }
    if (!m->pts.on_grid || (!m->prim && !point_of(c, m->pts.scale, &p))) {
      m->pts.on_grid = 0; /* from here on every comparison is made on the window */
      continue;
    }
    if (fabs(p) > m->max_pts) m->max_pts = fabs(p);
    double* ring = m->pts.ring;
    int mask = m->pts.mask;
    m->sum_f += p - ring[(j - m->fast) & mask];
    m->sum_s += p - ring[(j - m->slow) & mask];
    ring[j & mask] = p;
    if (j >= m->slow - 1) m->cmp[1] = sma_cmp_fast(m);
  }
  m->next = end;
}

/* The full-history ATR at bar end - 1, advanced from where it stopped. In SMA mode nothing else reads
 * it, so it advances only at entries, in the multiply form value * (p - 1) / p + TR / p: the same value
 * within (p + 1)u relative (atr_bound's rounding term), one multiply-add per bar on the critical path
 * instead of a division. With the primary series' points the true ranges come from the int64 highs,
 * lows and closes (24 bytes a bar instead of the 48 of a bar), exact in points: they differ from the
 * window's (of the doubles) by at most 8u of the price, which atr_bound adds (price_slack). */
static void ma_atr_to(MaState* m, int end) {
  AskIncAtr* a = &m->atr;
  int j = m->atr_next;
  if (m->ema) return; /* advanced bar by bar with the EMAs */
  for (; j < end && j <= a->period; ++j) ask_inc_atr_push(a, m->bars, j);
  double keep = m->atr_keep, share = m->atr_share;
  if (m->prim && j < end) {
    const long long *high = m->prim->high, *low = m->prim->low, *close = m->prim->close;
    double scale = m->pts.scale;
    double v = a->value * scale, top = a->max_tr * scale, peak = m->peak_pts;
    /* four bars per step of the recursion, v4 = v k^4 + (t0 k^3 + t1 k^2 + t2 k + t3) s: one multiply-add on
     * the critical path per four bars (the rest runs alongside); a few more roundings, same bound */
    double k2 = keep * keep, k3 = k2 * keep, k4 = k2 * k2;
    double t[4];
    for (; j + 4 <= end; j += 4) {
      for (int q = 0; q < 4; ++q) {
        long long pc = close[j + q - 1], h = high[j + q], l = low[j + q];
        long long tr = h - l, up = h > pc ? h - pc : pc - h, down = l > pc ? l - pc : pc - l;
        if (up > tr) tr = up;
        if (down > tr) tr = down;
        t[q] = (double)tr;
        if (t[q] > top) top = t[q];
        if ((double)h > peak) peak = (double)h;
      }
      v = v * k4 + ((t[0] * k3 + t[1] * k2) + (t[2] * keep + t[3])) * share;
    }
    for (; j < end; ++j) {
      long long pc = close[j - 1], h = high[j], l = low[j];
      long long tr = h - l, up = h > pc ? h - pc : pc - h, down = l > pc ? l - pc : pc - l;
      if (up > tr) tr = up;
      if (down > tr) tr = down;
      double tj = (double)tr;
      if (tj > top) top = tj;
      if ((double)h > peak) peak = (double)h;
      v = v * keep + tj * share;
    }
    a->value = v / scale;
    a->max_tr = top / scale;
    m->peak_pts = peak;
    m->price_slack = 8.0 * U * peak / scale;
  }
  double v = a->value, top = a->max_tr;
  for (; j < end; ++j) {
    double tr = ask_inc_true_range(m->bars, j);
    if (tr > top) top = tr;
    v = v * keep + tr * share;
  }
  a->value = v;
  a->max_tr = top;
  m->atr_next = end;
}

/* EMA comparisons at the window's last two closed bars: the full-history difference decides when it
 * exceeds both EMAs' bounds (seed error at most the range of closes, times its weight, plus rounding). */
static void ema_cmps(const MaState* m, int* c0, int* c1) {
  double range = m->hi_close - m->lo_close;
  double slack = 16.0 * (m->fast + m->slow + 4) * U * m->max_abs;
  double b1 = range * (m->decay_f[1] + m->decay_s[1]) * (1.0 + 1e-9) + slack;
  double b0 = range * (m->decay_f[0] + m->decay_s[0]) * (1.0 + 1e-9) + slack;
  double d1 = m->ef.value - m->es.value;
  double d0 = m->ef_prev - m->es_prev;
  if (fabs(d1) > b1 && fabs(d0) > b0) {
    *c1 = d1 > 0 ? GT : LT;
    *c0 = d0 > 0 ? GT : LT;
    return;
  }
  double f[2], s[2];
  const CRates* view = m->bars + (m->next - m->window);
  ask_ema(view, m->window - 1, m->fast, f, 2);
  ask_ema(view, m->window - 1, m->slow, s, 2);
  *c0 = cmp3(f[0], s[0]);
  *c1 = cmp3(f[1], s[1]);
}

static double ma_entry_atr(MaState* m, const AskContext* ctx, int digits, double scale, int buy) {
  ma_atr_to(m, m->next);
  double atr = m->atr.value;
  double e = atr_bound(&m->atr, m->atr_decay) + m->price_slack;
  if (entry_settled(ctx, digits, scale, buy, buy ? ctx->ask : ctx->bid, atr - e, atr + e, m->sl_mult,
                    m->tp_mult))
    return atr;
  return window_atr(m->bars + (m->next - m->window), m->window, m->atr_period);
}

/* ---- CHANNEL_BREAKOUT (strategy_channel_breakout.c) ---------------------- */

typedef struct CbState {
  int period, trail, expiry_bars, atr_period, window, next;
  double buffer, sl_mult, tp_mult, point;
  const CRates* bars;
  const long long* close_time;
  AskIncDonchian channel, trailing;
  AskIncAtr atr;
  double atr_decay;
} CbState;

/* The pending entries' integers for one ATR: whether each is placed, its price in points, its lots,
 * stop and target in points. */
typedef struct CbEntries {
  long long buy_points, sell_points, buy_sl, buy_tp, sell_sl, sell_tp;
  double buy_lots, sell_lots;
  int buy, sell;
} CbEntries;

static void cb_entries(const CbState* m, const AskContext* ctx, int digits, double scale, double high,
                       double low, double atr, CbEntries* e) {
  memset(e, 0, sizeof *e);
  double buy_entry = high + m->buffer * atr;
  double sell_entry = low - m->buffer * atr;
  e->buy = ctx->open_count[BUYSTOP] == 0 && buy_entry > ctx->ask;
  e->sell = ctx->open_count[SELLSTOP] == 0 && sell_entry < ctx->bid;
  double sl = m->sl_mult * atr, tp = m->tp_mult * atr;
  if (e->buy) {
    e->buy_points = ask_price_points(buy_entry, digits, scale);
    double f = (double)e->buy_points / scale;
    e->buy_sl = sl > 0 ? ask_price_points(f - sl, digits, scale) : 0;
    e->buy_tp = tp > 0 ? ask_price_points(f + tp, digits, scale) : 0;
    e->buy_lots = ask_lots(ctx, sl, atr);
  }
  if (e->sell) {
    e->sell_points = ask_price_points(sell_entry, digits, scale);
    double f = (double)e->sell_points / scale;
    e->sell_sl = sl > 0 ? ask_price_points(f + sl, digits, scale) : 0;
    e->sell_tp = tp > 0 ? ask_price_points(f - tp, digits, scale) : 0;
    e->sell_lots = ask_lots(ctx, sl, atr);
  }
}

/* Whether each entry is placed and its price are monotone in the ATR; with the price fixed, so are the
 * lots, stop and target: the same integers at both ends of the bound are the window ATR's integers. */
static double cb_entry_atr(const CbState* m, const AskContext* ctx, int digits, double scale,
                           double high, double low) {
  double atr = m->atr.value;
  double e = atr_bound(&m->atr, m->atr_decay);
  if (atr - e > 0.0 && atr + e < INFINITY) {
    CbEntries lo, hi;
    cb_entries(m, ctx, digits, scale, high, low, atr - e, &lo);
    cb_entries(m, ctx, digits, scale, high, low, atr + e, &hi);
    if (memcmp(&lo, &hi, sizeof lo) == 0) return atr;
  }
  return window_atr(m->bars + (m->next - m->window), m->window, m->atr_period);
}

/* ---- MEAN_REVERSION (strategy_mean_reversion.c) -------------------------- */

typedef struct MrState {
  int mode, rsi_period, bb_period, trend_period, atr_period, window, next, trend_next;
  double oversold, overbought, exit_level, bb_k, sl_mult, tp_mult;
  const CRates* bars;
  const CRates* trend_bars;
  /* trend: exact sum of the trend slot's last trend_period closes; trend_cmp = sign of close - SMA */
  PointRing pts;
  double trend_sum, trend_max_abs, thr_coef;
  int trend_cmp;
  AskIncRsi rsi;
  double rsi_decay;
  AskIncAtr atr;
  double atr_decay;
  int sig[4]; /* this bar's long, short, exit long, exit short */
  int up, down;
} MrState;

static void mr_absorb_trend(MrState* m, int end) {
  for (int j = m->trend_next; j < end; ++j) {
    double c = m->trend_bars[j].close;
    if (fabs(c) > m->trend_max_abs) m->trend_max_abs = fabs(c);
    m->trend_cmp = UNKNOWN;
    double p;
    if (!m->pts.on_grid || !point_of(c, m->pts.scale, &p)) {
      m->pts.on_grid = 0;
      continue;
    }
    int n = m->trend_period;
    m->trend_sum += p - m->pts.ring[(j - n) & m->pts.mask];
    m->pts.ring[j & m->pts.mask] = p;
    if (j < n - 1) continue;
    /* (close - SMA) x period x scale, exact; same margin as sma_cmp_fast */
    double d = p * n - m->trend_sum;
    if (fabs(d) > m->thr_coef * m->trend_max_abs) m->trend_cmp = d > 0 ? GT : LT;
  }
  m->trend_next = end;
}

/* 1 when x < t for every x in [lo, hi], 0 for none, -1 when it depends (and the mirror images). */
static int below(double lo, double hi, double t) { return hi < t ? 1 : (lo >= t ? 0 : -1); }
static int above(double lo, double hi, double t) { return lo > t ? 1 : (hi <= t ? 0 : -1); }
static int at_least(double lo, double hi, double t) { return lo >= t ? 1 : (hi < t ? 0 : -1); }
static int at_most(double lo, double hi, double t) { return hi <= t ? 1 : (lo > t ? 0 : -1); }

/* The RSI decisions from the full-history averages: each average is within (largest move) x its seed's
 * weight of the window's, and the RSI is monotone in both (up in gains, down in losses). */
static int mr_rsi_signals(const MrState* m, int* sig) {
  const AskIncRsi* r = &m->rsi;
  double e = r->max_move * (m->rsi_decay * (1.0 + 1e-9) + 16.0 * (r->period + 2) * U);
  if (r->gain - e > 0.0 && r->loss - e > 0.0) {
    double lo = ask_rsi_value(r->gain - e, r->loss + e) - 1e-9;
    double hi = ask_rsi_value(r->gain + e, r->loss - e) + 1e-9;
    sig[0] = below(lo, hi, m->oversold);
    sig[1] = above(lo, hi, m->overbought);
    sig[2] = at_least(lo, hi, m->exit_level);
    sig[3] = at_most(lo, hi, 100.0 - m->exit_level);
    if (sig[0] >= 0 && sig[1] >= 0 && sig[2] >= 0 && sig[3] >= 0) return 1;
  }
  double rsi;
  ask_rsi(m->bars + (m->next - m->window), m->window - 1, m->rsi_period, &rsi, 1);
  sig[0] = rsi < m->oversold;
  sig[1] = rsi > m->overbought;
  sig[2] = rsi >= m->exit_level;
  sig[3] = rsi <= 100.0 - m->exit_level;
  return 1;
}

/* ---- the kernel --------------------------------------------------------- */

struct AskKernel {
  const AskBtInput* in;
  int strategy;
  int timed_exit; /* TIMED_EXIT_BARS > 0: ask_apply_timed_exit has work to do */
  int digits;
  double scale;
  union {
    MaState ma;
    CbState cb;
    MrState mr;
  } u;
};

/* Absorbs the bars closed by now and decides the cross; 1 when the strategy writes nothing at this bar
 * whatever the book (no cross, no timed exits), so the loop need not fill the context. */
static int ma_advance(AskKernel* k, const int* ends) {
  MaState* m = &k->u.ma;
  int end = ends[0];
  ma_absorb(m, end);
  int c0, c1;
  if (!m->ema) {
    if (m->cmp[1] == UNKNOWN) m->cmp[1] = sma_cmp_window(m, end - 1);
    if (m->cmp[0] == UNKNOWN) m->cmp[0] = sma_cmp_window(m, end - 2);
    c0 = m->cmp[0];
    c1 = m->cmp[1];
  } else {
    ema_cmps(m, &c0, &c1);
  }
  m->cross = (c1 == GT && c0 != GT) ? GT : ((c1 == LT && c0 != LT) ? LT : EQ);
  return m->cross == EQ && !k->timed_exit;
}

static int ma_step(AskKernel* k, AskContext* ctx) {
  MaState* m = &k->u.ma;
  if (k->timed_exit) ask_apply_timed_exit(ctx);
  if (m->cross == GT) {
    if (ctx->open_count[SELL] > 0) ask_emit_close(ctx, SELL, ASK_ALL_ORDER_TICKETS);
    if (ctx->open_count[BUY] == 0) {
      double atr = ma_entry_atr(m, ctx, k->digits, k->scale, 1);
      ask_emit_open_market(ctx, BUY, m->sl_mult * atr, m->tp_mult * atr, atr);
    }
  } else if (m->cross == LT) {
    if (ctx->open_count[BUY] > 0) ask_emit_close(ctx, BUY, ASK_ALL_ORDER_TICKETS);
    if (ctx->open_count[SELL] == 0) {
      double atr = ma_entry_atr(m, ctx, k->digits, k->scale, 0);
      ask_emit_open_market(ctx, SELL, m->sl_mult * atr, m->tp_mult * atr, atr);
    }
  }
  return SUCCESS;
}

static int cb_advance(AskKernel* k, const int* ends) {
  CbState* m = &k->u.cb;
  int end = ends[0];
  for (int j = m->next; j < end; ++j) {
    ask_inc_donchian_push(&m->channel, m->bars, j);
    ask_inc_donchian_push(&m->trailing, m->bars, j);
    ask_inc_atr_push(&m->atr, m->bars, j);
  }
  m->next = end;
  return 0; /* its actions depend on the book */
}

static int cb_step(AskKernel* k, AskContext* ctx) {
  CbState* m = &k->u.cb;
  int end = m->next;
  double high = ask_inc_donchian_high(&m->channel, m->bars);
  double low = ask_inc_donchian_low(&m->channel, m->bars);
  double trail_high = ask_inc_donchian_high(&m->trailing, m->bars);
  double trail_low = ask_inc_donchian_low(&m->trailing, m->bars);
  if (k->timed_exit) ask_apply_timed_exit(ctx);

  int had_buy = ctx->open_count[BUY] > 0;
  int had_sell = ctx->open_count[SELL] > 0;
  if (had_buy && ctx->open_count[SELLSTOP] > 0) ask_emit_close(ctx, SELLSTOP, ASK_ALL_ORDER_TICKETS);
  if (had_sell && ctx->open_count[BUYSTOP] > 0) ask_emit_close(ctx, BUYSTOP, ASK_ALL_ORDER_TICKETS);

  double half_point = m->point * 0.5;
  for (int i = 0; i < ctx->order_count; ++i) {
    const COrderInfo* o = &ctx->orders[i];
    if (o->ticket == 0.0 || o->isOpen == 0.0) continue;
    if ((int)o->type == BUY) {
      double stop = trail_low;
      int improves = o->stopLoss <= 0.0 || stop > o->stopLoss + half_point;
      if (improves && ctx->bid - stop >= ctx->minimum_stop && stop < ctx->bid) {
        double tp = o->takeProfit > ctx->ask ? o->takeProfit - ctx->ask : 0.0;
        ask_emit_update(ctx, BUY, o->ticket, ctx->ask - stop, tp, 1);
      }
    } else if ((int)o->type == SELL) {
      double stop = trail_high;
      int improves = o->stopLoss <= 0.0 || stop < o->stopLoss - half_point;
      if (improves && stop - ctx->ask >= ctx->minimum_stop && stop > ctx->ask) {
        double tp = (o->takeProfit > 0.0 && o->takeProfit < ctx->bid) ? ctx->bid - o->takeProfit
                                                                       : 0.0;
        ask_emit_update(ctx, SELL, o->ticket, stop - ctx->bid, tp, 1);
      }
    }
  }

  if (had_buy || had_sell) return SUCCESS;
  double atr = cb_entry_atr(m, ctx, k->digits, k->scale, high, low);
  /* the forming bar's open time, as the engine writes it into the window */
  double expiration =
      (double)(int)m->close_time[end - 1] + (double)m->expiry_bars * ctx->timeframe * 60.0;
  double buy_entry = high + m->buffer * atr;
  double sell_entry = low - m->buffer * atr;
  if (ctx->open_count[BUYSTOP] == 0 && buy_entry > ctx->ask)
    ask_emit_open_pending(ctx, BUYSTOP, buy_entry, m->sl_mult * atr, m->tp_mult * atr, atr,
                          expiration);
  if (ctx->open_count[SELLSTOP] == 0 && sell_entry < ctx->bid)
    ask_emit_open_pending(ctx, SELLSTOP, sell_entry, m->sl_mult * atr, m->tp_mult * atr, atr,
                          expiration);
  return SUCCESS;
}

static int mr_advance(AskKernel* k, const int* ends) {
  MrState* m = &k->u.mr;
  int end = ends[0];
  for (int j = m->next; j < end; ++j) {
    ask_inc_rsi_push(&m->rsi, m->bars, j);
    ask_inc_atr_push(&m->atr, m->bars, j);
  }
  m->next = end;
  mr_absorb_trend(m, ends[1]);
  int trend_last = ends[1] - 1;
  if (m->trend_cmp == UNKNOWN) {
    double sma;
    ask_sma(m->trend_bars, trend_last, m->trend_period, &sma, 1);
    m->trend_cmp = cmp3(m->trend_bars[trend_last].close, sma);
  }
  m->up = m->trend_cmp == GT;
  m->down = m->trend_cmp == LT;
  int* sig = m->sig;
  if (m->mode == 0) {
    mr_rsi_signals(m, sig);
  } else {
    double upper, middle, lower;
    ask_bollinger(m->bars + (end - m->window), m->window - 1, m->bb_period, m->bb_k, &upper, &middle,
                  &lower, 1);
    double close = m->bars[end - 1].close;
    sig[0] = close < lower;
    sig[1] = close > upper;
    sig[2] = close >= middle;
    sig[3] = close <= middle;
  }
  /* nothing to close, nothing to enter whatever the book */
  return !k->timed_exit && !sig[2] && !sig[3] && !(sig[0] && m->up) && !(sig[1] && m->down);
}

static int mr_step(AskKernel* k, AskContext* ctx) {
  MrState* m = &k->u.mr;
  const int* sig = m->sig;
  if (k->timed_exit) ask_apply_timed_exit(ctx);
  if (sig[2] && ctx->open_count[BUY] > 0) ask_emit_close(ctx, BUY, ASK_ALL_ORDER_TICKETS);
  if (sig[3] && ctx->open_count[SELL] > 0) ask_emit_close(ctx, SELL, ASK_ALL_ORDER_TICKETS);
  int enter_long = sig[0] && m->up && ctx->open_count[BUY] == 0;
  int enter_short = sig[1] && m->down && ctx->open_count[SELL] == 0;
  if (!enter_long && !enter_short) return SUCCESS;
  double atr = m->atr.value;
  double e = atr_bound(&m->atr, m->atr_decay);
  if ((enter_long && !entry_settled(ctx, k->digits, k->scale, 1, ctx->ask, atr - e, atr + e,
                                    m->sl_mult, m->tp_mult)) ||
      (enter_short && !entry_settled(ctx, k->digits, k->scale, 0, ctx->bid, atr - e, atr + e,
                                     m->sl_mult, m->tp_mult)))
    atr = window_atr(m->bars + (m->next - m->window), m->window, m->atr_period);
  if (enter_long) ask_emit_open_market(ctx, BUY, m->sl_mult * atr, m->tp_mult * atr, atr);
  if (enter_short && ctx->open_count[SELL] == 0)
    ask_emit_open_market(ctx, SELL, m->sl_mult * atr, m->tp_mult * atr, atr);
  return SUCCESS;
}

/* ---- construction: the strategy's own checks, once per run -------------- */

static int ma_init(MaState* m, const AskContext* ctx, const AskBtInput* in, int* oom) {
  int fast, slow, ma_type, atr_period;
  double sl_mult, tp_mult;
  if (ask_int_setting(ctx, ADDITIONAL_PARAM_1, 1, 500, &fast) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 1, 2, 1000, &slow) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 2, 0, 1, &ma_type) || fast >= slow ||
      ask_atr_settings(ctx, &sl_mult, &tp_mult, &atr_period))
    return 0;
  const AskBtSlot* sl = &in->slots[0];
  int n = sl->window + 1;
  if (n < slow + 2 || n < atr_period + 2) return 0;
  m->fast = fast;
  m->slow = slow;
  m->ema = ma_type == 1;
  m->atr_period = atr_period;
  m->sl_mult = sl_mult;
  m->tp_mult = tp_mult;
  m->window = sl->window;
  m->bars = sl->bars;
  m->cmp[0] = m->cmp[1] = UNKNOWN;
  m->lo_close = INFINITY;
  m->hi_close = -INFINITY;
  m->ef_prev = m->es_prev = NAN;
  ask_inc_ema_init(&m->ef, fast);
  ask_inc_ema_init(&m->es, slow);
  ask_inc_atr_init(&m->atr, atr_period);
  /* the window's seeds sit at window index p - 1 (EMA) and p (ATR); the last closed bar at window - 1 */
  for (int t = 0; t < 2; ++t) {
    m->decay_f[t] = decay(1.0 - m->ef.alpha, m->window - fast - (1 - t));
    m->decay_s[t] = decay(1.0 - m->es.alpha, m->window - slow - (1 - t));
  }
  m->atr_decay = decay((atr_period - 1.0) / atr_period, m->window - 1 - atr_period);
  m->atr_keep = (atr_period - 1.0) / atr_period;
  m->atr_share = 1.0 / atr_period;
  if (!m->ema) {
    if (!ring_init(&m->pts, slow, sl->digits)) {
      *oom = 1;
      return 0;
    }
    /* |D| above thr_coef * (largest |close| in points); see sma_cmp_fast */
    m->thr_coef = ((fast + slow) / 4.0 + 32.0) * 4.0 * U * fast * slow * (1.0 + 1e-6);
    if (sl->primary_points && sl->digits == in->digits && sl->count <= in->n_bars) m->prim = in;
  }
  return 1;
}

static int cb_init(CbState* m, const AskContext* ctx, const AskBtInput* in, int* oom) {
  int period, trail, expiry_bars, atr_period;
  double buffer, sl_mult, tp_mult;
  if (ask_int_setting(ctx, ADDITIONAL_PARAM_1, 2, 500, &period) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 1, 2, 500, &trail) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 2, 1, 1000, &expiry_bars) ||
      ask_real_setting(ctx, ADDITIONAL_PARAM_1 + 3, 0.0, 10.0, &buffer) ||
      ask_atr_settings(ctx, &sl_mult, &tp_mult, &atr_period))
    return 0;
  const AskBtSlot* sl = &in->slots[0];
  int n = sl->window + 1;
  if (n < period + 1 || n < trail + 1 || n < atr_period + 2) return 0;
  m->period = period;
  m->trail = trail;
  m->expiry_bars = expiry_bars;
  m->atr_period = atr_period;
  m->buffer = buffer;
  m->sl_mult = sl_mult;
  m->tp_mult = tp_mult;
  m->point = sl->point;
  m->window = sl->window;
  m->bars = sl->bars;
  m->close_time = sl->close_time;
  ask_inc_atr_init(&m->atr, atr_period);
  m->atr_decay = decay((atr_period - 1.0) / atr_period, m->window - 1 - atr_period);
  if (!ask_inc_donchian_init(&m->channel, period) || !ask_inc_donchian_init(&m->trailing, trail)) {
    *oom = 1;
    return 0;
  }
  return 1;
}

static int mr_init(MrState* m, const AskContext* ctx, const AskBtInput* in, int* oom) {
  int mode, rsi_period, bb_period, trend_tf, trend_period, atr_period;
  double oversold, overbought, exit_level, bb_k, sl_mult, tp_mult;
  if (ask_int_setting(ctx, ADDITIONAL_PARAM_1, 0, 1, &mode) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 1, 2, 500, &rsi_period) ||
      ask_real_setting(ctx, ADDITIONAL_PARAM_1 + 2, 1.0, 49.0, &oversold) ||
      ask_real_setting(ctx, ADDITIONAL_PARAM_1 + 3, 51.0, 99.0, &overbought) ||
      ask_real_setting(ctx, ADDITIONAL_PARAM_1 + 4, 1.0, 99.0, &exit_level) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 5, 2, 500, &bb_period) ||
      ask_real_setting(ctx, ADDITIONAL_PARAM_1 + 6, 0.1, 10.0, &bb_k) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 7, 1, 43200, &trend_tf) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 8, 2, 500, &trend_period) ||
      ask_atr_settings(ctx, &sl_mult, &tp_mult, &atr_period))
    return 0;
  if (in->slot_count < 2) return 0;
  const AskRatesView* trend = &ctx->slots[1];
  if (trend_tf <= ctx->timeframe || !trend->enabled || trend->timeframe != trend_tf) return 0;
  int n = in->slots[0].window + 1;
  int need = mode == 0 ? rsi_period + 2 : bb_period + 1;
  if (n < need || n < atr_period + 2 || in->slots[1].window + 1 < trend_period + 1) return 0;
  m->mode = mode;
  m->rsi_period = rsi_period;
  m->bb_period = bb_period;
  m->trend_period = trend_period;
  m->atr_period = atr_period;
  m->oversold = oversold;
  m->overbought = overbought;
  m->exit_level = exit_level;
  m->bb_k = bb_k;
  m->sl_mult = sl_mult;
  m->tp_mult = tp_mult;
  m->window = in->slots[0].window;
  m->bars = in->slots[0].bars;
  m->trend_bars = in->slots[1].bars;
  m->trend_cmp = UNKNOWN;
  ask_inc_rsi_init(&m->rsi, rsi_period);
  ask_inc_atr_init(&m->atr, atr_period);
  m->rsi_decay = decay((rsi_period - 1.0) / rsi_period, m->window - 1 - rsi_period);
  m->atr_decay = decay((atr_period - 1.0) / atr_period, m->window - 1 - atr_period);
  if (!ring_init(&m->pts, trend_period, in->slots[1].digits)) {
    *oom = 1;
    return 0;
  }
  m->thr_coef = (trend_period / 4.0 + 32.0) * 4.0 * U * trend_period * m->pts.scale;
  return 1;
}

AskKernel* ask_kernel_new(const AskContext* ctx, const AskBtInput* in, int* oom) {
  *oom = 0;
  AskKernel* k = (AskKernel*)calloc(1, sizeof *k);
  if (!k) {
    *oom = 1;
    return NULL;
  }
  k->in = in;
  k->strategy = ctx->strategy_id;
  k->timed_exit = ask_param(ctx, TIMED_EXIT_BARS) > 0.0 && (int)ask_param(ctx, TIMED_EXIT_BARS) > 0;
  k->digits = in->digits;
  k->scale = (double)ask_pow10ll(in->digits);
  int ok = 0;
  switch (k->strategy) {
    case ASK_STRATEGY_RECORD_BARS: ok = in->slots[0].window + 1 >= 2; break;
    case ASK_STRATEGY_MA_CROSSOVER: ok = ma_init(&k->u.ma, ctx, in, oom); break;
    case ASK_STRATEGY_CHANNEL_BREAKOUT: ok = cb_init(&k->u.cb, ctx, in, oom); break;
    case ASK_STRATEGY_MEAN_REVERSION: ok = mr_init(&k->u.mr, ctx, in, oom); break;
    default: break;
  }
  if (!ok) {
    ask_kernel_free(k);
    return NULL;
  }
  return k;
}

/* The SMA mode's scan, its state in locals: the loop stores only into the ring, which could otherwise
 * alias the state's fields and force them back to memory every bar. Same steps as ma_absorb and
 * ma_advance. */
static int ma_scan_sma(AskKernel* k, int from, int to) {
  MaState* m = &k->u.ma;
  const int* end0 = k->in->slots[0].closed_end;
  const long long* points = m->prim ? m->prim->close : NULL;
  const CRates* bars = m->bars;
  double* ring = m->pts.ring;
  const int mask = m->pts.mask, fast = m->fast, slow = m->slow;
  const double scale = m->pts.scale, thr_coef = m->thr_coef;
  double sum_f = m->sum_f, sum_s = m->sum_s, max_pts = m->max_pts;
  int on_grid = m->pts.on_grid, next = m->next, c0 = m->cmp[0], c1 = m->cmp[1];
  int found = to + 1;
  for (int i = from; i <= to; ++i) {
    int end = end0[i];
    for (int j = next; j < end; ++j) {
      c0 = c1;
      c1 = UNKNOWN;
      double p = 0.0;
      if (points) {
        p = (double)points[j];
        if (!(fabs(p) < 4e9)) on_grid = 0;
      } else if (on_grid && !point_of(bars[j].close, scale, &p)) {
        on_grid = 0;
      }
      if (!on_grid) continue;
      if (fabs(p) > max_pts) max_pts = fabs(p);
      sum_f += p - ring[(j - fast) & mask];
      sum_s += p - ring[(j - slow) & mask];
      ring[j & mask] = p;
      if (j >= slow - 1) {
        double d = sum_f * slow - sum_s * fast;
        if (fabs(d) > thr_coef * max_pts) c1 = d > 0 ? GT : LT;
      }
    }
    next = end;
    if (c1 == UNKNOWN) c1 = sma_cmp_window(m, end - 1);
    if (c0 == UNKNOWN) c0 = sma_cmp_window(m, end - 2);
    if ((c1 == GT && c0 != GT) || (c1 == LT && c0 != LT)) {
      m->cross = c1;
      found = i;
      break;
    }
  }
  m->sum_f = sum_f;
  m->sum_s = sum_s;
  m->max_pts = max_pts;
  m->pts.on_grid = on_grid;
  m->next = next;
  m->cmp[0] = c0;
  m->cmp[1] = c1;
  return found;
}

int ask_kernel_scan(AskKernel* k, int from, int to) {
  const AskBtInput* in = k->in;
  const int* end0 = in->slots[0].closed_end;
  switch (k->strategy) {
    case ASK_STRATEGY_MA_CROSSOVER: /* the common case: one slot, a loop the compiler sees whole */
      if (!k->u.ma.ema && !k->timed_exit) return ma_scan_sma(k, from, to);
      for (int i = from; i <= to; ++i) {
        int ends[1] = {end0[i]};
        if (!ma_advance(k, ends)) return i;
      }
      return to + 1;
    case ASK_STRATEGY_CHANNEL_BREAKOUT: {
      int ends[1] = {end0[from]};
      cb_advance(k, ends);
      return from; /* its actions depend on the book every bar */
    }
    case ASK_STRATEGY_MEAN_REVERSION:
      for (int i = from; i <= to; ++i) {
        int ends[2] = {end0[i], in->slots[1].closed_end[i]};
        if (!mr_advance(k, ends)) return i;
      }
      return to + 1;
    default: return to + 1; /* RECORD_BARS: never writes a row */
  }
}

int ask_kernel_step(AskKernel* k, AskContext* ctx) {
  switch (k->strategy) {
    case ASK_STRATEGY_MA_CROSSOVER: return ma_step(k, ctx);
    case ASK_STRATEGY_CHANNEL_BREAKOUT: return cb_step(k, ctx);
    case ASK_STRATEGY_MEAN_REVERSION: return mr_step(k, ctx);
    default: return SUCCESS;
  }
}

void ask_kernel_free(AskKernel* k) {
  if (!k) return;
  if (k->strategy == ASK_STRATEGY_MA_CROSSOVER) free(k->u.ma.pts.ring);
  if (k->strategy == ASK_STRATEGY_MEAN_REVERSION) free(k->u.mr.pts.ring);
  if (k->strategy == ASK_STRATEGY_CHANNEL_BREAKOUT) {
    ask_inc_donchian_free(&k->u.cb.channel);
    ask_inc_donchian_free(&k->u.cb.trailing);
  }
  free(k);
}
