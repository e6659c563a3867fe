/*
 * CHANNEL_BREAKOUT (id 101): Donchian channel breakout with pending stop
 * orders and a trailing channel stop.
 *
 * Parameters: ADDITIONAL_PARAM_1 CHANNEL_PERIOD int [2,500] (20),
 *             ADDITIONAL_PARAM_2 TRAIL_PERIOD int [2,500] (10),
 *             ADDITIONAL_PARAM_3 EXPIRY_BARS int [1,1000] (1),
 *             ADDITIONAL_PARAM_4 ENTRY_BUFFER_ATR real [0,10] (0),
 *             SL_ATR_MULTIPLIER, TP_ATR_MULTIPLIER, ATR_AVERAGING_PERIOD.
 * Slot 0: needs max(CHANNEL_PERIOD + 1, TRAIL_PERIOD + 1, ATR_AVERAGING_PERIOD + 2) bars.
 *
 * Channel = highest high / lowest low of the last CHANNEL_PERIOD closed bars.
 * 1. With a BUY open, a pending SELLSTOP is deleted (CLOSE_SELLSTOP, ticket -1),
 *    and the BUY's stop trails to the lowest low of the last TRAIL_PERIOD closed
 *    bars when that is higher than its current stop (or it has none) and at
 *    least minimumStop below the bid: UPDATE_BUY, SL distance = ask - new stop
 *    (the front end sets SL = ask - distance), TP distance keeps the order's
 *    take-profit (takeProfit - ask, 0 = unchanged/none), trailing flag 1.
 *    Mirror image for SELL (SL distance = new stop - bid).
 * 2. With no market position, a BUYSTOP at channel high + buffer x ATR (only if
 *    above the ask) and a SELLSTOP at channel low - buffer x ATR (only if below
 *    the bid) are placed unless one of that type is already pending. Expiry =
 *    open time of the forming bar + EXPIRY_BARS x TIMEFRAME minutes.
 */
#include "ask_internal.h"

int ask_strategy_channel_breakout(AskContext* ctx) {
  int period, trail, expiry_bars, atr_period;
  double buffer, sl_mult, tp_mult;
  if (ask_int_setting(ctx, ADDITIONAL_PARAM_1, 2, 500, &period) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 1, 2, 500, &trail) ||
      ask_int_setting(ctx, ADDITIONAL_PARAM_1 + 2, 1, 1000, &expiry_bars) ||
      ask_real_setting(ctx, ADDITIONAL_PARAM_1 + 3, 0.0, 10.0, &buffer) ||
      ask_atr_settings(ctx, &sl_mult, &tp_mult, &atr_period))
    return INVALID_PARAMETER;

  const AskRatesView* view = &ctx->slots[0];
  int n = view->count;
  if (n < period + 1 || n < trail + 1 || n < atr_period + 2) return NOT_ENOUGH_RATES_DATA;
  int last = n - 2;

  double high, low, trail_high, trail_low;
  ask_donchian(view->bars, last, period, &high, &low, 1);
  ask_donchian(view->bars, last, trail, &trail_high, &trail_low, 1);
  ask_apply_timed_exit(ctx);

  int had_buy = ctx->open_count[BUY] > 0;
  int had_sell = ctx->open_count[SELL] > 0;
  if (had_buy && ctx->open_count[SELLSTOP] > 0)
    ask_emit_close(ctx, SELLSTOP, ASK_ALL_ORDER_TICKETS);
  if (had_sell && ctx->open_count[BUYSTOP] > 0)
    ask_emit_close(ctx, BUYSTOP, ASK_ALL_ORDER_TICKETS);

  double half_point = view->point * 0.5;
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
  double atr; /* only entries use it (see ma_crossover) */
  ask_atr(view->bars, last, atr_period, &atr, 1);
  double expiration =
      (double)view->bars[n - 1].time + (double)expiry_bars * ctx->timeframe * 60.0;
  double buy_entry = high + buffer * atr;
  double sell_entry = low - buffer * atr;
  if (ctx->open_count[BUYSTOP] == 0 && buy_entry > ctx->ask)
    ask_emit_open_pending(ctx, BUYSTOP, buy_entry, sl_mult * atr, tp_mult * atr, atr, expiration);
  if (ctx->open_count[SELLSTOP] == 0 && sell_entry < ctx->bid)
    ask_emit_open_pending(ctx, SELLSTOP, sell_entry, sl_mult * atr, tp_mult * atr, atr,
                          expiration);
  return SUCCESS;
}
