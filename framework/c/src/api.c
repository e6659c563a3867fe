/*
 * api.c - the exported ABI: instance registry, input validation, rates views
 * (with resampling of finer bars), and dispatch to the strategy functions.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ask_internal.h"

#define MAX_TIMEFRAME_MINUTES 43200
#define WEEK_MINUTES 10080
/* Epoch day 0 was a Thursday; shifting by 4 days makes weekly buckets start on
 * Sunday 00:00. */
#define WEEK_BUCKET_SHIFT 345600LL

typedef struct InstanceSlot {
  int used;
  int id;
  int is_testing;
} InstanceSlot;

static InstanceSlot g_instances[ASK_MAX_INSTANCES];

/* The dropped actions of this thread's last c_runStrategy call (asirikuy_last_drops). */
#if defined(_MSC_VER)
#define ASK_THREAD_LOCAL __declspec(thread)
#else
#define ASK_THREAD_LOCAL _Thread_local
#endif
static ASK_THREAD_LOCAL int g_last_drops[ASK_MAX_DROPS][3];
static ASK_THREAD_LOCAL int g_last_drop_count;

/* ---- instance registry ------------------------------------------------- */

static int find_instance_locked(int id) {
  for (int i = 0; i < ASK_MAX_INSTANCES; ++i)
    if (g_instances[i].used && g_instances[i].id == id) return i;
  return -1;
}

ASK_EXPORT int ASK_API initInstanceC(int instanceId, int isTesting, char* pConfigPath,
                                     char* pAccountName) {
  (void)pAccountName;
  if (pConfigPath == NULL) return INVALID_CONFIG;
  int rc = SUCCESS;
  ask_lock();
  int slot = find_instance_locked(instanceId);
  if (slot < 0) {
    for (int i = 0; i < ASK_MAX_INSTANCES; ++i) {
      if (!g_instances[i].used) {
        slot = i;
        break;
      }
    }
  }
  if (slot < 0) {
    rc = TOO_MANY_INSTANCES;
  } else {
    g_instances[slot].used = 1;
    g_instances[slot].id = instanceId;
    g_instances[slot].is_testing = isTesting != 0;
  }
  ask_unlock();
  return rc;
}

ASK_EXPORT void ASK_API deinitInstance(int instanceId) {
  ask_lock();
  int slot = find_instance_locked(instanceId);
  if (slot >= 0) memset(&g_instances[slot], 0, sizeof g_instances[slot]);
  ask_unlock();
}

ASK_EXPORT void ASK_API getFrameworkVersion(int* pMajor, int* pMinor, int* pBugfix) {
  if (pMajor) *pMajor = ASK_VERSION_MAJOR;
  if (pMinor) *pMinor = ASK_VERSION_MINOR;
  if (pBugfix) *pBugfix = ASK_VERSION_BUGFIX;
}

static int instance_registered(int id) {
  ask_lock();
  int found = find_instance_locked(id) >= 0;
  ask_unlock();
  return found;
}

/* ---- validation helpers ------------------------------------------------ */

static int as_int(double v, double lo, double hi, int* out) {
  if (!(v >= lo && v <= hi) || v != floor(v)) return 0;
  *out = (int)v;
  return 1;
}

static int all_finite(const double* v, int n) {
  for (int i = 0; i < n; ++i)
    if (!isfinite(v[i])) return 0;
  return 1;
}

static AskStrategyFn lookup_strategy(int id) {
  switch (id) {
    case ASK_STRATEGY_RECORD_BARS: return ask_strategy_record_bars;
    case ASK_STRATEGY_MA_CROSSOVER: return ask_strategy_ma_crossover;
    case ASK_STRATEGY_CHANNEL_BREAKOUT: return ask_strategy_channel_breakout;
    case ASK_STRATEGY_MEAN_REVERSION: return ask_strategy_mean_reversion;
    default: return NULL;
  }
}

static void clear_results(StrategyResults* rows, int count) {
  memset(rows, 0, (size_t)count * sizeof *rows);
  for (int i = 0; i < count; ++i) rows[i].ticketNumber = ASK_ALL_ORDER_TICKETS;
}

static int validate_settings(const double* s) {
  int v;
  double d;
  if (!all_finite(s, ASK_SETTINGS_COUNT)) return INVALID_PARAMETER;
  if (!as_int(s[TIMEFRAME], 1, MAX_TIMEFRAME_MINUTES, &v)) return INVALID_PARAMETER;
  if (!as_int(s[ORDERINFO_ARRAY_SIZE], 0, ASK_MAX_ORDER_INFO, &v)) return INVALID_PARAMETER;
  d = s[ACCOUNT_RISK_PERCENT];
  if (!(d > 0.0 && d <= 100.0)) return INVALID_PARAMETER;
  if (s[MAX_SPREAD] < 0.0 || s[MAX_DRAWDOWN_PERCENT] < 0.0) return INVALID_PARAMETER;
  if (!as_int(s[DISABLE_COMPOUNDING], 0, 1, &v)) return INVALID_PARAMETER;
  if (v == 1 && !(s[ORIGINAL_EQUITY] > 0.0)) return INVALID_PARAMETER;
  if (!as_int(s[IS_BACKTESTING], 0, 1, &v)) return INVALID_PARAMETER;
  if (s[IS_SPREAD_BETTING] != 0.0) return INVALID_PARAMETER;
  if (!as_int(s[TIMED_EXIT_BARS], 0, 1000000, &v)) return INVALID_PARAMETER;
  return SUCCESS;
}

static int validate_orders(AskContext* ctx) {
  memset(ctx->open_count, 0, sizeof ctx->open_count);
  for (int i = 0; i < ctx->order_count; ++i) {
    const COrderInfo* o = &ctx->orders[i];
    if (o->ticket == 0.0) continue;
    if (!all_finite(&o->ticket, (int)(sizeof *o / sizeof(double)))) return INVALID_PARAMETER;
    if (o->isOpen == 0.0) continue;
    int type;
    if (!as_int(o->type, BUY, SELLSTOP, &type)) return INVALID_PARAMETER;
    ctx->open_count[type] += 1;
  }
  return SUCCESS;
}

static long long floor_div_ll(long long a, long long b) {
  long long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

/* Merge bars of a finer timeframe into fixed buckets of tf minutes (days start
 * 00:00, weeks Sunday 00:00 of the broker clock). Bars are already known to be
 * in strictly increasing time order. */
static int resample(const CRates* in, int n, int tf, CRates** out, int* out_n) {
  long long span = (long long)tf * 60;
  long long shift = tf == WEEK_MINUTES ? WEEK_BUCKET_SHIFT : 0;
  *out = NULL;
  *out_n = 0;
  if (n == 0) return SUCCESS;
  int buckets = 0;
  long long current = 0;
  for (int i = 0; i < n; ++i) {
    long long b = floor_div_ll((long long)in[i].time + shift, span);
    if (i == 0 || b != current) ++buckets;
    current = b;
  }
  CRates* bars = (CRates*)malloc((size_t)buckets * sizeof *bars);
  if (bars == NULL) return INSUFFICIENT_MEMORY;
  int k = -1;
  for (int i = 0; i < n; ++i) {
    long long b = floor_div_ll((long long)in[i].time + shift, span);
    if (k < 0 || b != current) {
      ++k;
      bars[k] = in[i];
      bars[k].time = (int)(b * span - shift);
    } else {
      if (in[i].high > bars[k].high) bars[k].high = in[i].high;
      if (in[i].low < bars[k].low) bars[k].low = in[i].low;
      bars[k].close = in[i].close;
      bars[k].volume += in[i].volume;
    }
    current = b;
  }
  *out = bars;
  *out_n = buckets;
  return SUCCESS;
}

/* Every field finite, times strictly increasing. Checked on every call over the whole window (a few hundred
 * bars), so in blocks of 8 bars without a branch per bar: x * 0 is (+/-)0 for a finite x and NaN for NaN or
 * an infinity, so a block's sum of those products is 0 exactly when its fields are finite. The exit after
 * each block keeps the early stop of a per-bar check (never more than 7 bars read past the first bad one,
 * and never past n); the last n % 8 bars go one at a time. */
#define CHECK_BLOCK 8
static int check_bars(const CRates* bars, int n) {
  int i = 0;
  if (n > 0 && !(isfinite(bars[0].open) && isfinite(bars[0].high) && isfinite(bars[0].low) &&
                 isfinite(bars[0].close) && isfinite(bars[0].volume)))
    return INVALID_PARAMETER;
  for (i = 1; i + CHECK_BLOCK <= n; i += CHECK_BLOCK) {
    double probe = 0.0;
    int unordered = 0;
    for (int j = i; j < i + CHECK_BLOCK; ++j) {
      const CRates* b = &bars[j];
      probe += (b->open * 0.0 + b->high * 0.0) + (b->low * 0.0 + b->close * 0.0) + b->volume * 0.0;
      unordered |= b->time <= bars[j - 1].time;
    }
    if (!(probe == 0.0) || unordered) return INVALID_PARAMETER;
  }
  for (; i < n; ++i) {
    const CRates* b = &bars[i];
    if (!isfinite(b->open) || !isfinite(b->high) || !isfinite(b->low) || !isfinite(b->close) ||
        !isfinite(b->volume))
      return INVALID_PARAMETER;
    if (i > 0 && b->time <= bars[i - 1].time) return INVALID_PARAMETER;
  }
  return SUCCESS;
}

static int build_slot(AskContext* ctx, int index, const CRatesInfo* info, const CRates* rates,
                      CRates** owned) {
  AskRatesView* view = &ctx->slots[index];
  memset(view, 0, sizeof *view);
  if (!all_finite(&info->isEnabled, (int)(sizeof *info / sizeof(double))))
    return INVALID_PARAMETER;
  if (info->isEnabled == 0.0) return index == 0 ? INVALID_PARAMETER : SUCCESS;
  if (rates == NULL) return NULL_POINTER;
  int required, actual, total, size, digits;
  if (!as_int(info->requiredTimeframe, 1, MAX_TIMEFRAME_MINUTES, &required) ||
      !as_int(info->actualTimeframe, 1, MAX_TIMEFRAME_MINUTES, &actual) ||
      !as_int(info->totalBarsRequired, 1, ASK_MAX_RATES, &total) ||
      !as_int(info->ratesArraySize, 0, ASK_MAX_RATES, &size) ||
      !as_int(info->digits, 0, 15, &digits) || !(info->point > 0.0) || actual > required ||
      required % actual != 0)
    return INVALID_PARAMETER;
  if (index == 0 && required != ctx->timeframe) return INVALID_PARAMETER;
  int rc = check_bars(rates, size);
  if (rc != SUCCESS) return rc;
  view->enabled = 1;
  view->timeframe = required;
  view->point = info->point;
  view->digits = digits;
  if (actual == required) {
    view->bars = rates;
    view->count = size;
  } else {
    rc = resample(rates, size, required, owned, &view->count);
    if (rc != SUCCESS) return rc;
    view->bars = *owned;
  }
  if (view->count < total) return NOT_ENOUGH_RATES_DATA;
  return SUCCESS;
}

static int prepare_and_run(AskContext* ctx, AskStrategyFn strategy, const double* account,
                           const double* bid_ask, const CRatesInfo* rates_info,
                           const CRates* const* rates, CRates** owned) {
  const double* s = ctx->settings;
  int rc = validate_settings(s);
  if (rc != SUCCESS) return rc;
  ctx->timeframe = (int)s[TIMEFRAME];

  if (!all_finite(account, ASK_ACCOUNT_INFO_COUNT) || !all_finite(bid_ask, ASK_BID_ASK_COUNT))
    return INVALID_PARAMETER;
  ctx->contract_size = account[IDX_CONTRACT_SIZE];
  ctx->minimum_stop = account[IDX_MINIMUM_STOP];
  if (!(ctx->contract_size > 0.0) || ctx->minimum_stop < 0.0) return INVALID_PARAMETER;
  ctx->equity = s[DISABLE_COMPOUNDING] == 1.0 ? s[ORIGINAL_EQUITY] : account[IDX_EQUITY];

  ctx->bid = bid_ask[IDX_BID];
  ctx->ask = bid_ask[IDX_ASK];
  if (ctx->bid < 1e-9 || ctx->ask < 1e-9) return BID_ASK_IS_ZERO;
  if (ctx->ask < ctx->bid) return INVALID_PARAMETER;
  double qbid = bid_ask[IDX_QUOTE_CONVERSION_BID];
  double qask = bid_ask[IDX_QUOTE_CONVERSION_ASK];
  ctx->quote_conversion = qbid > qask ? qbid : qask;
  if (!(qbid > 0.0 && qask > 0.0)) return INVALID_PARAMETER;

  rc = validate_orders(ctx);
  if (rc != SUCCESS) return rc;

  for (int i = 0; i < ASK_RATES_SLOTS; ++i) {
    rc = build_slot(ctx, i, &rates_info[i], rates[i], &owned[i]);
    if (rc != SUCCESS) return rc;
  }

  double max_spread = s[MAX_SPREAD];
  double max_dd = s[MAX_DRAWDOWN_PERCENT];
  int spread_ok = max_spread == 0.0 || ctx->ask - ctx->bid <= max_spread + 1e-12;
  int drawdown_ok = max_dd == 0.0 || account[IDX_LARGEST_DRAWDOWN_PERCENT] < max_dd;
  ctx->entry_block = ctx->operational_mode != ENABLE ? ASK_DROP_MONITOR
                     : !spread_ok                     ? ASK_DROP_SPREAD
                     : !drawdown_ok                   ? ASK_DROP_DRAWDOWN
                                                      : 0;
  return strategy(ctx);
}

ASK_EXPORT int ASK_API c_runStrategy(
    double* pInSettings, char* pInTradeSymbol, char* pInAccountCurrency, char* pInBrokerName,
    char* pInRefBrokerName, int* pInCurrentBrokerTime, int* pInOpenOrdersCount,
    COrderInfo* pInOrderInfo, double* pInAccountInfo, double* pInBidAsk,
    CRatesInfo* pInRatesInfo, CRates* pInRates_0, CRates* pInRates_1, CRates* pInRates_2,
    CRates* pInRates_3, CRates* pInRates_4, CRates* pInRates_5, CRates* pInRates_6,
    CRates* pInRates_7, CRates* pInRates_8, CRates* pInRates_9, double* pOutResults) {
  if (!pInSettings || !pInTradeSymbol || !pInAccountCurrency || !pInBrokerName ||
      !pInRefBrokerName || !pInCurrentBrokerTime || !pInOpenOrdersCount || !pInAccountInfo ||
      !pInBidAsk || !pInRatesInfo || !pInRates_0 || !pOutResults)
    return NULL_POINTER;

  g_last_drop_count = 0;
  AskContext ctx;
  memset(&ctx, 0, sizeof ctx);
  ctx.settings = pInSettings;
  if (!as_int(pInSettings[MAX_OPEN_ORDERS], 1, ASK_MAX_OPEN_ORDERS_CAP, &ctx.max_open_orders))
    return INVALID_PARAMETER;
  ctx.results = (StrategyResults*)(void*)pOutResults;
  ctx.result_rows = ctx.max_open_orders;
  clear_results(ctx.results, ctx.result_rows);

  if (!as_int(pInSettings[OPERATIONAL_MODE], DISABLE, MONITOR, &ctx.operational_mode))
    return INVALID_PARAMETER;
  if (ctx.operational_mode == DISABLE) return SUCCESS;

  if (!as_int(pInSettings[STRATEGY_INSTANCE_ID], INT_MIN, INT_MAX, &ctx.instance_id))
    return INVALID_PARAMETER;
  if (!instance_registered(ctx.instance_id)) return UNKNOWN_INSTANCE_ID;
  AskStrategyFn strategy = NULL;
  if (as_int(pInSettings[INTERNAL_STRATEGY_ID], INT_MIN, INT_MAX, &ctx.strategy_id))
    strategy = lookup_strategy(ctx.strategy_id);
  if (strategy == NULL) return INVALID_STRATEGY;

  int order_count;
  if (!as_int(pInSettings[ORDERINFO_ARRAY_SIZE], 0, ASK_MAX_ORDER_INFO, &order_count))
    return INVALID_PARAMETER;
  if (order_count > 0 && pInOrderInfo == NULL) return NULL_POINTER;
  ctx.orders = pInOrderInfo;
  ctx.order_count = order_count;

  long long broker_offset, ref_offset;
  ctx.current_time = *pInCurrentBrokerTime;
  if (ask_broker_utc_offset(pInBrokerName, ctx.current_time, &broker_offset) != 0 ||
      ask_broker_utc_offset(pInRefBrokerName, ctx.current_time, &ref_offset) != 0)
    return UNKNOWN_TIMEZONE;
  ctx.ref_offset = ref_offset - broker_offset;

  const CRates* rates[ASK_RATES_SLOTS] = {pInRates_0, pInRates_1, pInRates_2, pInRates_3,
                                          pInRates_4, pInRates_5, pInRates_6, pInRates_7,
                                          pInRates_8, pInRates_9};
  CRates* owned[ASK_RATES_SLOTS] = {0};
  int rc = prepare_and_run(&ctx, strategy, pInAccountInfo, pInBidAsk, pInRatesInfo, rates, owned);
  for (int i = 0; i < ASK_RATES_SLOTS; ++i) free(owned[i]);
  if (rc != SUCCESS) {
    clear_results(ctx.results, ctx.result_rows);
    return rc;
  }
  if (ctx.drop_count) {
    int kept = ctx.drop_count < ASK_MAX_DROPS ? ctx.drop_count : ASK_MAX_DROPS;
    memcpy(g_last_drops, ctx.drops, (size_t)kept * sizeof ctx.drops[0]);
    g_last_drop_count = ctx.drop_count;
  }
  return rc;
}

ASK_EXPORT int ASK_API asirikuy_run_strategy_args(void* const* pArgs, int* pDropped) {
  if (pArgs == NULL) return NULL_POINTER;
  int rc = c_runStrategy((double*)pArgs[0], (char*)pArgs[1], (char*)pArgs[2], (char*)pArgs[3],
                         (char*)pArgs[4], (int*)pArgs[5], (int*)pArgs[6], (COrderInfo*)pArgs[7],
                         (double*)pArgs[8], (double*)pArgs[9], (CRatesInfo*)pArgs[10],
                         (CRates*)pArgs[11], (CRates*)pArgs[12], (CRates*)pArgs[13],
                         (CRates*)pArgs[14], (CRates*)pArgs[15], (CRates*)pArgs[16],
                         (CRates*)pArgs[17], (CRates*)pArgs[18], (CRates*)pArgs[19],
                         (CRates*)pArgs[20], (double*)pArgs[21]);
  if (pDropped != NULL) *pDropped = g_last_drop_count;
  return rc;
}

ASK_EXPORT int ASK_API asirikuy_run_strategy_forming(void* const* pArgs, int* pOut,
                                                     const double* pForming) {
  if (pArgs == NULL || pOut == NULL || pForming == NULL || pArgs[10] == NULL || pArgs[11] == NULL ||
      pArgs[0] == NULL || pArgs[21] == NULL)
    return NULL_POINTER;
  int size, rows, time;
  double price = pForming[0];
  if (!as_int(((const CRatesInfo*)pArgs[10])->ratesArraySize, 1, ASK_MAX_RATES, &size) ||
      !as_int(pForming[1], INT_MIN, INT_MAX, &time) || !isfinite(price))
    return INVALID_PARAMETER;
  CRates* forming = (CRates*)pArgs[11] + (size - 1);
  CRates original = *forming;
  forming->open = forming->high = forming->low = forming->close = price;
  forming->volume = 0.0;
  forming->time = time;
  int dropped = 0;
  int rc = asirikuy_run_strategy_args(pArgs, &dropped);
  *forming = original;
  int signalled = 0;
  if (rc == SUCCESS && as_int(((const double*)pArgs[0])[MAX_OPEN_ORDERS], 1, ASK_MAX_OPEN_ORDERS_CAP, &rows)) {
    const double* results = (const double*)pArgs[21];
    for (int k = 0; k < rows; ++k) signalled |= results[10 * k + 1] != 0.0;
  }
  pOut[0] = dropped;
  pOut[1] = signalled;
  return rc;
}

ASK_EXPORT int ASK_API asirikuy_last_drops(int* pOut, int capacity) {
  int kept = g_last_drop_count < ASK_MAX_DROPS ? g_last_drop_count : ASK_MAX_DROPS;
  if (pOut != NULL)
    for (int i = 0; i < kept && i < capacity; ++i) memcpy(&pOut[3 * i], g_last_drops[i], sizeof g_last_drops[i]);
  return g_last_drop_count;
}

/* ---- our extra exports: indicator values for tests and Python strategies -- */

int ask_indicator_tail(int kind, const CRates* bars, int end, int period, double param, double* out,
                       int tail) {
  double a[2], b[2], c[2];
  switch (kind) {
    case ASK_IND_SMA: ask_sma(bars, end, period, out, tail); return SUCCESS;
    case ASK_IND_EMA: ask_ema(bars, end, period, out, tail); return SUCCESS;
    case ASK_IND_ATR: ask_atr(bars, end, period, out, tail); return SUCCESS;
    case ASK_IND_RSI: ask_rsi(bars, end, period, out, tail); return SUCCESS;
    default: break;
  }
  if (kind < ASK_IND_BB_UPPER || kind > ASK_IND_DONCHIAN_LOW) return INVALID_PARAMETER;
  for (int done = 0; done < tail; done += 2) { /* two values at a time into the small buffers */
    int n = tail - done < 2 ? tail - done : 2;
    int e = end - (tail - done - n);
    if (kind <= ASK_IND_BB_LOWER) {
      ask_bollinger(bars, e, period, param, a, b, c, n);
      const double* src = kind == ASK_IND_BB_UPPER ? a : (kind == ASK_IND_BB_MIDDLE ? b : c);
      memcpy(out + done, src, (size_t)n * sizeof(double));
    } else {
      ask_donchian(bars, e, period, a, b, n);
      memcpy(out + done, kind == ASK_IND_DONCHIAN_HIGH ? a : b, (size_t)n * sizeof(double));
    }
  }
  return SUCCESS;
}

static int indicator_args_ok(const CRates* rates, const double* out, int count, int period,
                             double param) {
  if (rates == NULL || out == NULL) return NULL_POINTER;
  if (count < 1 || count > ASK_MAX_RATES || period < 1 || period > count || !isfinite(param))
    return INVALID_PARAMETER;
  return SUCCESS;
}

ASK_EXPORT int ASK_API asirikuy_indicator_tail(int kind, const CRates* pRates, int count, int period,
                                               double param, int tail, double* pOut) {
  int rc = indicator_args_ok(pRates, pOut, count, period, param);
  if (rc != SUCCESS) return rc;
  if (tail < 1 || tail > count) return INVALID_PARAMETER;
  return ask_indicator_tail(kind, pRates, count - 1, period, param, pOut, tail);
}

ASK_EXPORT int ASK_API asirikuy_indicator_windows(int kind, const CRates* pRates, int count,
                                                  int period, double param, int window, int shift,
                                                  double* pOut) {
  int rc = indicator_args_ok(pRates, pOut, count, period, param);
  if (rc != SUCCESS) return rc;
  if (window < 1 || window > count || shift < 0 || shift >= window) return INVALID_PARAMETER;
  for (int e = 0; e < window - 1; ++e) pOut[e] = NAN;
  for (int e = window - 1; e < count; ++e) {
    rc = ask_indicator_tail(kind, pRates + (e - window + 1), window - 1 - shift, period, param,
                            &pOut[e], 1);
    if (rc != SUCCESS) return rc;
  }
  return SUCCESS;
}

ASK_EXPORT int ASK_API asirikuy_indicator(int kind, const CRates* pRates, int count, int period,
                                          double param, double* pOut) {
  if (pRates == NULL || pOut == NULL) return NULL_POINTER;
  if (count < 1 || count > ASK_MAX_RATES || period < 1 || period > count || !isfinite(param))
    return INVALID_PARAMETER;
  int end = count - 1;
  switch (kind) {
    case ASK_IND_SMA: ask_sma(pRates, end, period, pOut, count); return SUCCESS;
    case ASK_IND_EMA: ask_ema(pRates, end, period, pOut, count); return SUCCESS;
    case ASK_IND_ATR: ask_atr(pRates, end, period, pOut, count); return SUCCESS;
    case ASK_IND_RSI: ask_rsi(pRates, end, period, pOut, count); return SUCCESS;
    default: break;
  }
  if (kind >= ASK_IND_BB_UPPER && kind <= ASK_IND_DONCHIAN_LOW) {
    double* a = (double*)malloc((size_t)count * sizeof(double));
    double* b = (double*)malloc((size_t)count * sizeof(double));
    double* c = (double*)malloc((size_t)count * sizeof(double));
    int rc = SUCCESS;
    if (!a || !b || !c) {
      rc = INSUFFICIENT_MEMORY;
    } else if (kind <= ASK_IND_BB_LOWER) {
      ask_bollinger(pRates, end, period, param, a, b, c, count);
      const double* src = kind == ASK_IND_BB_UPPER ? a : (kind == ASK_IND_BB_MIDDLE ? b : c);
      memcpy(pOut, src, (size_t)count * sizeof(double));
    } else {
      ask_donchian(pRates, end, period, a, b, count);
      memcpy(pOut, kind == ASK_IND_DONCHIAN_HIGH ? a : b, (size_t)count * sizeof(double));
    }
    free(a);
    free(b);
    free(c);
    return rc;
  }
  return INVALID_PARAMETER;
}
