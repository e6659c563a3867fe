/*
 * MEAN_REVERSION (id 102): RSI or Bollinger mean reversion on the primary
 * timeframe, filtered by the trend of a higher timeframe read from slot 1.
 *
 * Parameters: ADDITIONAL_PARAM_1 SIGNAL_MODE int [0,1] (0 = RSI, 1 = Bollinger),
 *             ADDITIONAL_PARAM_2 RSI_PERIOD int [2,500] (14),
 *             ADDITIONAL_PARAM_3 OVERSOLD real [1,49] (30),
 *             ADDITIONAL_PARAM_4 OVERBOUGHT real [51,99] (70),
 *             ADDITIONAL_PARAM_5 EXIT_LEVEL real [1,99] (50),
 *             ADDITIONAL_PARAM_6 BB_PERIOD int [2,500] (20),
 *             ADDITIONAL_PARAM_7 BB_STDDEV real [0.1,10] (2),
 *             ADDITIONAL_PARAM_8 TREND_TIMEFRAME int [1,43200] (240), > TIMEFRAME,
 *             ADDITIONAL_PARAM_9 TREND_PERIOD int [2,500] (50),
 *             SL_ATR_MULTIPLIER, TP_ATR_MULTIPLIER, ATR_AVERAGING_PERIOD.
 * Slot 0 (primary): needs max(RSI_PERIOD + 2 (RSI mode) or BB_PERIOD + 1
 * (Bollinger mode), ATR_AVERAGING_PERIOD + 2) bars.
 * Slot 1 (requiredTimeframe must equal TREND_TIMEFRAME): TREND_PERIOD + 1 bars.
 *
 * Trend: last closed slot-1 close above its SMA(TREND_PERIOD) = up, below = down.
 * RSI mode: RSI < OVERSOLD in an up trend opens a BUY, RSI > OVERBOUGHT in a down
 * trend opens a SELL; BUYs close when RSI >= EXIT_LEVEL, SELLs when
 * RSI <= 100 - EXIT_LEVEL. Bollinger mode: close below the lower band (up
 * trend) buys, above the upper band (down trend) sells; BUYs close at
 * close >= middle band, SELLs at close <= middle band. Exits come first and
 * close all orders of the type (ticket -1). Entries need no open order of the
 * same direction.
 */
#include "ask_internal.h"

int ask_strategy_mean_reversion(AskContext* ctx) {
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
    return INVALID_PARAMETER;
  const AskRatesView* view = &ctx->slots[0];
  const AskRatesView* trend = &ctx->slots[1];
  if (trend_tf <= ctx->timeframe || !trend->enabled || trend->timeframe != trend_tf)
    return INVALID_PARAMETER;

  int n = view->count;
  int need = mode == 0 ? rsi_period + 2 : bb_period + 1;
  if (n < need || n < atr_period + 2 || trend->count < trend_period + 1)
    return NOT_ENOUGH_RATES_DATA;
  int last = n - 2;

  double trend_sma;
  int trend_last = trend->count - 2;
  ask_sma(trend->bars, trend_last, trend_period, &trend_sma, 1);
  double trend_close = trend->bars[trend_last].close;
  int up = trend_close > trend_sma;
  int down = trend_close < trend_sma;

  int long_signal, short_signal, exit_long, exit_short;
  if (mode == 0) {
    double rsi;
    ask_rsi(view->bars, last, rsi_period, &rsi, 1);
    long_signal = rsi < oversold;
    short_signal = rsi > overbought;
    exit_long = rsi >= exit_level;
    exit_short = rsi <= 100.0 - exit_level;
  } else {
    double upper, middle, lower;
    ask_bollinger(view->bars, last, bb_period, bb_k, &upper, &middle, &lower, 1);
    double close = view->bars[last].close;
    long_signal = close < lower;
    short_signal = close > upper;
    exit_long = close >= middle;
    exit_short = close <= middle;
  }

  ask_apply_timed_exit(ctx);

  if (exit_long && ctx->open_count[BUY] > 0) ask_emit_close(ctx, BUY, ASK_ALL_ORDER_TICKETS);
  if (exit_short && ctx->open_count[SELL] > 0) ask_emit_close(ctx, SELL, ASK_ALL_ORDER_TICKETS);
  int enter_long = long_signal && up && ctx->open_count[BUY] == 0;
  int enter_short = short_signal && down && ctx->open_count[SELL] == 0;
  if (!enter_long && !enter_short) return SUCCESS;
  double atr; /* only entries use it (see ma_crossover) */
  ask_atr(view->bars, last, atr_period, &atr, 1);
  if (enter_long)
    ask_emit_open_market(ctx, BUY, sl_mult * atr, tp_mult * atr, atr);
  if (enter_short && ctx->open_count[SELL] == 0)
    ask_emit_open_market(ctx, SELL, sl_mult * atr, tp_mult * atr, atr);
  return SUCCESS;
}
