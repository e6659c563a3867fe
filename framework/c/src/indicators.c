/*
 * indicators.c - technical indicators over CRates arrays.
 *
 * Conventions (the Python tests hold reference implementations of these):
 *   SMA(p)[i]   = mean(close[i-p+1..i]), defined for i >= p-1.
 *   EMA(p)[p-1] = SMA(p)[p-1]; EMA[i] = a*close[i] + (1-a)*EMA[i-1], a = 2/(p+1).
 *   TR[i]       = max(high-low, |high-close[i-1]|, |low-close[i-1]|), i >= 1.
 *   ATR(p)[p]   = mean(TR[1..p]); ATR[i] = (ATR[i-1]*(p-1) + TR[i]) / p  (Wilder).
 *   RSI(p)      = Wilder averages of gains/losses of close-to-close changes,
 *                 seeded at index p with the plain means over 1..p;
 *                 RSI = 100 - 100/(1+G/L); L == 0 gives 100 (50 if G == 0 too).
 *   Bollinger   = SMA(p) +/- k * population standard deviation over the window.
 *   Donchian(p) = highest high / lowest low of bars i-p+1..i.
 */
#include <math.h>

#include "ask_internal.h"

static int first_index(int end, int tail) { return end - tail + 1; }

/* close[from..to] summed in four interleaved partial sums, joined as (a + b) + (c + d). One chain
 * makes every add wait for the previous one; four run side by side. The value depends only on the
 * window's closes, so SMA, the EMA seed and the Bollinger mean of one window agree bit for bit. */
static inline double window_sum(const CRates* bars, int from, int to) {
  double a = 0.0, b = 0.0, c = 0.0, d = 0.0;
  int k = from;
  for (; k + 3 <= to; k += 4) {
    a += bars[k].close;
    b += bars[k + 1].close;
    c += bars[k + 2].close;
    d += bars[k + 3].close;
  }
  if (k <= to) a += bars[k++].close; /* the last one to three closes, one per partial sum */
  if (k <= to) b += bars[k++].close;
  if (k <= to) c += bars[k].close;
  return (a + b) + (c + d);
}

static void fill_nan(double* out, int tail) {
  for (int j = 0; j < tail; ++j) out[j] = NAN;
}

void ask_sma(const CRates* bars, int end, int period, double* out, int tail) {
  int start = first_index(end, tail);
  for (int j = 0; j < tail; ++j) {
    int i = start + j;
    if (i < period - 1 || i < 0) {
      out[j] = NAN;
      continue;
    }
    out[j] = window_sum(bars, i - period + 1, i) / period;
  }
}

void ask_ema(const CRates* bars, int end, int period, double* out, int tail) {
  int start = first_index(end, tail);
  fill_nan(out, tail);
  if (end < period - 1) return;
  double ema = window_sum(bars, 0, period - 1) / period;
  double alpha = 2.0 / (period + 1.0);
  for (int i = period - 1; i <= end; ++i) {
    if (i > period - 1) ema = alpha * bars[i].close + (1.0 - alpha) * ema;
    if (i >= start) out[i - start] = ema;
  }
}

double ask_true_range(const CRates* bars, int i) {
  double prev = bars[i - 1].close;
  double tr = bars[i].high - bars[i].low;
  double up = fabs(bars[i].high - prev);
  double down = fabs(bars[i].low - prev);
  if (up > tr) tr = up;
  if (down > tr) tr = down;
  return tr;
}

void ask_atr(const CRates* bars, int end, int period, double* out, int tail) {
  int start = first_index(end, tail);
  fill_nan(out, tail);
  if (end < period) return;
  double sum = 0.0;
  for (int i = 1; i <= period; ++i) sum += ask_true_range(bars, i);
  double atr = sum / period;
  for (int i = period; i <= end; ++i) {
    if (i > period) atr = (atr * (period - 1) + ask_true_range(bars, i)) / period;
    if (i >= start) out[i - start] = atr;
  }
}

double ask_rsi_value(double gain, double loss) {
  if (loss == 0.0) return gain == 0.0 ? 50.0 : 100.0;
  return 100.0 - 100.0 / (1.0 + gain / loss);
}

void ask_rsi(const CRates* bars, int end, int period, double* out, int tail) {
  int start = first_index(end, tail);
  fill_nan(out, tail);
  if (end < period) return;
  double gain = 0.0;
  double loss = 0.0;
  for (int i = 1; i <= period; ++i) {
    double d = bars[i].close - bars[i - 1].close;
    if (d > 0) gain += d;
    else loss -= d;
  }
  gain /= period;
  loss /= period;
  for (int i = period; i <= end; ++i) {
    if (i > period) {
      double d = bars[i].close - bars[i - 1].close;
      double g = d > 0 ? d : 0.0;
      double l = d < 0 ? -d : 0.0;
      gain = (gain * (period - 1) + g) / period;
      loss = (loss * (period - 1) + l) / period;
    }
    if (i >= start) out[i - start] = ask_rsi_value(gain, loss);
  }
}

void ask_bollinger(const CRates* bars, int end, int period, double k, double* upper,
                   double* middle, double* lower, int tail) {
  int start = first_index(end, tail);
  for (int j = 0; j < tail; ++j) {
    int i = start + j;
    if (i < period - 1 || i < 0) {
      upper[j] = middle[j] = lower[j] = NAN;
      continue;
    }
    double mean = window_sum(bars, i - period + 1, i) / period;
    double var = 0.0;
    for (int m = i - period + 1; m <= i; ++m) {
      double d = bars[m].close - mean;
      var += d * d;
    }
    double sd = sqrt(var / period);
    middle[j] = mean;
    upper[j] = mean + k * sd;
    lower[j] = mean - k * sd;
  }
}

void ask_donchian(const CRates* bars, int end, int period, double* high, double* low, int tail) {
  int start = first_index(end, tail);
  for (int j = 0; j < tail; ++j) {
    int i = start + j;
    if (i < period - 1 || i < 0) {
      high[j] = low[j] = NAN;
      continue;
    }
    double hi = bars[i].high;
    double lo = bars[i].low;
    for (int m = i - period + 1; m < i; ++m) {
      if (bars[m].high > hi) hi = bars[m].high;
      if (bars[m].low < lo) lo = bars[m].low;
    }
    high[j] = hi;
    low[j] = lo;
  }
}
