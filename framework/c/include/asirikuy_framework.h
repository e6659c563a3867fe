/*
 * asirikuy_framework.h - public ABI of the Asirikuy Trader strategy library.
 *
 * This is our own, clean-room implementation of the Asirikuy Framework C ABI
 * (initInstanceC / c_runStrategy / deinitInstance / getFrameworkVersion).
 * Struct layouts, array index maps, signal bits and return codes follow the
 * legacy AsirikuyFrameworkAPI so that the real library can be dropped in
 * behind the same Python binding. Names and behaviour are documented from
 * our research notes; no upstream code was used.
 *
 * Where the real library has quirks, this library is deliberately stricter:
 *   - Results: every row of pOutResults (settings[MAX_OPEN_ORDERS] rows) is
 *     cleared (ticket -1, everything else 0) on EVERY call that gets past the
 *     NULL-pointer checks, including disabled mode and error returns after
 *     validation of MAX_OPEN_ORDERS. No row beyond MAX_OPEN_ORDERS is written.
 *   - Input: bad input returns a documented code (NULL_POINTER,
 *     INVALID_PARAMETER, NOT_ENOUGH_RATES_DATA, INVALID_STRATEGY,
 *     UNKNOWN_INSTANCE_ID, TOO_MANY_INSTANCES, BID_ASK_IS_ZERO,
 *     UNKNOWN_TIMEZONE, INVALID_CONFIG) instead of crashing. Nothing is read
 *     beyond ratesArraySize bars, ORDERINFO_ARRAY_SIZE orders or 10 rates
 *     info entries; nothing is written beyond MAX_OPEN_ORDERS result rows.
 *   - Determinism: a call is a pure function of its inputs. Unlike the real
 *     library we never skip "the same bar again" or the first call of an
 *     instance; RUN_EVERY_TICK is therefore irrelevant.
 *   - State: per-instance state is only the registration made by
 *     initInstanceC (max 200 instances). It is guarded by a portable lock,
 *     so different instances may run on different threads at the same time.
 *   - Side effects: no files, no network, no stdout/stderr output. The config
 *     path must be non-NULL (INVALID_CONFIG otherwise) but is not read.
 *
 * Calling convention: ASK_API is __stdcall on Windows (it only matters on
 * 32-bit Windows, where exports stay undecorated through the .def file) and
 * empty elsewhere.
 */
#ifndef ASIRIKUY_FRAMEWORK_H
#define ASIRIKUY_FRAMEWORK_H

#ifdef __cplusplus
extern "C" {
#endif

#ifdef _WIN32
#define ASK_API __stdcall
#ifdef ASK_BUILDING_LIBRARY
#define ASK_EXPORT __declspec(dllexport)
#else
#define ASK_EXPORT __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define ASK_API
#define ASK_EXPORT __attribute__((visibility("default")))
#else
#define ASK_API
#define ASK_EXPORT
#endif

/* Version reported by getFrameworkVersion. The ABI is the one of the legacy
 * framework 4.x; major 5 marks our implementation of it. */
#define ASK_VERSION_MAJOR 5
#define ASK_VERSION_MINOR 0
#define ASK_VERSION_BUGFIX 0

/* ---- Limits ------------------------------------------------------------ */
#define ASK_MAX_INSTANCES 200
#define ASK_RATES_SLOTS 10
#define ASK_SETTINGS_COUNT 64
#define ASK_ACCOUNT_INFO_COUNT 10
#define ASK_BID_ASK_COUNT 6
#define ASK_RESULT_FIELDS 10
#define ASK_MAX_OPEN_ORDERS_CAP 1000   /* settings[MAX_OPEN_ORDERS] upper bound */
#define ASK_MAX_ORDER_INFO 10000       /* settings[ORDERINFO_ARRAY_SIZE] upper bound */
#define ASK_MAX_RATES 1000000          /* ratesArraySize upper bound per slot */
#define ASK_ALL_ORDER_TICKETS (-1)

/* ---- Structures (natural alignment, no packing) -------------------------- */

/* One bar. time = bar OPEN time, epoch seconds (broker wall clock). 48 bytes
 * on every 64-bit target (4 bytes of tail padding). */
typedef struct CRates {
  double open;
  double high;
  double low;
  double close;
  double volume;
  int time;
} CRates;

/* One order (open or recently closed), 15 doubles = 120 bytes. ticket 0 marks
 * an empty entry. "expiriation" keeps the legacy spelling. */
typedef struct COrderInfo {
  double ticket;
  double instanceId;
  double type;
  double openTime;
  double closeTime;
  double stopLoss;
  double takeProfit;
  double expiriation;
  double openPrice;
  double closePrice;
  double lots;
  double profit;
  double commission;
  double swap;
  double isOpen;
} COrderInfo;

/* Description of one rates slot, 7 doubles = 56 bytes. */
typedef struct CRatesInfo {
  double isEnabled;
  double requiredTimeframe;
  double totalBarsRequired;
  double actualTimeframe;
  double ratesArraySize;
  double point;
  double digits;
} CRatesInfo;

/* One result row, 10 doubles = 80 bytes (pOutResults is an array of these,
 * viewed as double[MAX_OPEN_ORDERS * 10] by callers). */
typedef struct StrategyResults {
  double ticketNumber;
  double tradingSignals;
  double lots;
  double entryPrice;
  double brokerSL;
  double brokerTP;
  double internalSL;
  double internalTP;
  double useTrailingSL;
  double expirationTime;
} StrategyResults;

/* ---- Return codes (AsirikuyReturnCode) ----------------------------------- */
typedef enum AsirikuyReturnCode {
  SUCCESS = 0,
  INVALID_CURRENCY = 3000,
  UNKNOWN_SYMBOL = 3001,
  SYMBOL_TOO_SHORT = 3002,
  PARSE_SYMBOL_FAILED = 3003,
  NO_CONVERSION_SYMBOLS = 3004,
  NULL_POINTER = 3005,
  INVALID_STRATEGY = 3006,
  NOT_ENOUGH_MARGIN = 3007,
  SPREAD_TOO_WIDE = 3008,
  NOT_ENOUGH_RATES_DATA = 3009,
  WORST_CASE_SCENARIO = 3010,
  NORMALIZE_BARS_FAILED = 3011,
  INIT_LOG_FAILED = 3012,
  DEINIT_LOG_FAILED = 3013,
  ZERO_DIVIDE = 3014,
  TA_LIB_ERROR = 3015,
  INVALID_TIME_OFFSET = 3016,
  INVALID_PARAMETER = 3017,
  NN_TRAINING_FAILED = 3018,
  UNKNOWN_TIMEZONE = 3019,
  LOCAL_TZ_MISMATCH = 3020,
  BROKER_TZ_MISMATCH = 3021,
  TOO_MANY_INSTANCES = 3022,
  INVALID_CONFIG = 3023,
  MISSING_CONFIG = 3024,
  INIT_XML_FAILED = 3025,
  UNKNOWN_INSTANCE_ID = 3026,
  INSUFFICIENT_MEMORY = 3027,
  WAIT_FOR_INIT = 3028,
  ERROR_IN_RATES_RETRIEVAL = 3029,
  BID_ASK_IS_ZERO = 3030,
  FILE_WRITING_ERROR = 3031
} AsirikuyReturnCode;

/* ---- Array index maps -------------------------------------------------- */
/* settings double[64]: indices 0..39 are ADDITIONAL_PARAM_1..40. */
enum SettingsIndex {
  ADDITIONAL_PARAM_1 = 0,
  IS_SPREAD_BETTING = 40,
  USE_SL = 41,
  USE_TP = 42,
  RUN_EVERY_TICK = 43,
  INSTANCE_MANAGEMENT = 44,
  MAX_OPEN_ORDERS = 45,
  IS_BACKTESTING = 46,
  DISABLE_COMPOUNDING = 47,
  TIMED_EXIT_BARS = 48,
  ORIGINAL_EQUITY = 49,
  OPERATIONAL_MODE = 50,
  STRATEGY_INSTANCE_ID = 51,
  INTERNAL_STRATEGY_ID = 52,
  TIMEFRAME = 53,
  SAVE_TICK_DATA = 54,
  ANALYSIS_WINDOW_SIZE = 55,
  PARAMETER_SET_POOL = 56,
  ACCOUNT_RISK_PERCENT = 57,
  MAX_DRAWDOWN_PERCENT = 58,
  MAX_SPREAD = 59,
  SL_ATR_MULTIPLIER = 60,
  TP_ATR_MULTIPLIER = 61,
  ATR_AVERAGING_PERIOD = 62,
  ORDERINFO_ARRAY_SIZE = 63
};

/* account info double[10] */
enum AccountInfoIndex {
  IDX_ACCOUNT_NUMBER = 0,
  IDX_BALANCE = 1,
  IDX_EQUITY = 2,
  IDX_MARGIN = 3,
  IDX_LEVERAGE = 4,
  IDX_CONTRACT_SIZE = 5,
  IDX_MINIMUM_STOP = 6,
  IDX_STOPOUT_PERCENT = 7,
  IDX_TOTAL_OPEN_TRADE_RISK_PERCENT = 8,
  IDX_LARGEST_DRAWDOWN_PERCENT = 9
};

/* bid/ask double[6] */
enum BidAskIndex {
  IDX_BID = 0,
  IDX_ASK = 1,
  IDX_BASE_CONVERSION_BID = 2,
  IDX_BASE_CONVERSION_ASK = 3,
  IDX_QUOTE_CONVERSION_BID = 4,
  IDX_QUOTE_CONVERSION_ASK = 5
};

typedef enum OrderType {
  NONE = -1,
  BUY = 0,
  SELL = 1,
  BUYLIMIT = 2,
  SELLLIMIT = 3,
  BUYSTOP = 4,
  SELLSTOP = 5
} OrderType;

typedef enum OperationalMode { DISABLE = 0, ENABLE = 1, MONITOR = 2 } OperationalMode;

/* Trading signal bits stored (as a double) in StrategyResults.tradingSignals. */
#define SIGNAL_NONE 0x00000000
#define SIGNAL_OPEN_BUY 0x00000001
#define SIGNAL_CLOSE_BUY 0x00000002
#define SIGNAL_UPDATE_BUY 0x00000004
#define SIGNAL_OPEN_BUYLIMIT 0x00000008
#define SIGNAL_CLOSE_BUYLIMIT 0x00000010
#define SIGNAL_UPDATE_BUYLIMIT 0x00000020
#define SIGNAL_OPEN_BUYSTOP 0x00000040
#define SIGNAL_CLOSE_BUYSTOP 0x00000080
#define SIGNAL_UPDATE_BUYSTOP 0x00000100
#define SIGNAL_OPEN_SELL 0x00010000
#define SIGNAL_CLOSE_SELL 0x00020000
#define SIGNAL_UPDATE_SELL 0x00040000
#define SIGNAL_OPEN_SELLLIMIT 0x00080000
#define SIGNAL_CLOSE_SELLLIMIT 0x00100000
#define SIGNAL_UPDATE_SELLLIMIT 0x00200000
#define SIGNAL_OPEN_SELLSTOP 0x00400000
#define SIGNAL_CLOSE_SELLSTOP 0x00800000
#define SIGNAL_UPDATE_SELLSTOP 0x01000000

/* INTERNAL_STRATEGY_ID values implemented here (see framework/README.md).
 * 19 keeps its legacy id; ours start at 100 to stay clear of 0..32. */
#define ASK_STRATEGY_RECORD_BARS 19
#define ASK_STRATEGY_MA_CROSSOVER 100
#define ASK_STRATEGY_CHANNEL_BREAKOUT 101
#define ASK_STRATEGY_MEAN_REVERSION 102

/* ---- ABI exports --------------------------------------------------------- */

/* Register instanceId (or reset it if already registered). configPath must be
 * non-NULL (INVALID_CONFIG) but is not read; accountName and isTesting are
 * accepted and ignored. TOO_MANY_INSTANCES when 200 ids are registered. */
ASK_EXPORT int ASK_API initInstanceC(int instanceId, int isTesting, char* pConfigPath,
                                     char* pAccountName);

/* Forget instanceId; running it afterwards gives UNKNOWN_INSTANCE_ID. */
ASK_EXPORT void ASK_API deinitInstance(int instanceId);

/* Write ASK_VERSION_*; NULL pointers are skipped. */
ASK_EXPORT void ASK_API getFrameworkVersion(int* pMajor, int* pMinor, int* pBugfix);

/* Evaluate one strategy tick. See framework/README.md for the exact rules. */
ASK_EXPORT int ASK_API c_runStrategy(
    double* pInSettings, char* pInTradeSymbol, char* pInAccountCurrency, char* pInBrokerName,
    char* pInRefBrokerName, int* pInCurrentBrokerTime, int* pInOpenOrdersCount,
    COrderInfo* pInOrderInfo, double* pInAccountInfo, double* pInBidAsk,
    CRatesInfo* pInRatesInfo, CRates* pInRates_0, CRates* pInRates_1, CRates* pInRates_2,
    CRates* pInRates_3, CRates* pInRates_4, CRates* pInRates_5, CRates* pInRates_6,
    CRates* pInRates_7, CRates* pInRates_8, CRates* pInRates_9, double* pOutResults);

/* ---- Our one extra export (NOT part of the legacy ABI) ------------------- */

/* Indicator kinds for asirikuy_indicator. */
#define ASK_IND_SMA 1         /* SMA of close, period */
#define ASK_IND_EMA 2         /* EMA of close, seeded with the SMA of the first period closes */
#define ASK_IND_ATR 3         /* ATR, Wilder smoothing, seeded with mean TR[1..period] */
#define ASK_IND_RSI 4         /* RSI, Wilder smoothing, seeded with mean gain/loss over 1..period */
#define ASK_IND_BB_UPPER 5    /* SMA + param * population stddev */
#define ASK_IND_BB_MIDDLE 6   /* SMA */
#define ASK_IND_BB_LOWER 7    /* SMA - param * population stddev */
#define ASK_IND_DONCHIAN_HIGH 8 /* highest high of the last period bars (inclusive) */
#define ASK_IND_DONCHIAN_LOW 9  /* lowest low of the last period bars (inclusive) */

/* Compute the full series of one indicator over rates[0..count-1], exactly as
 * the strategies compute it, into out[0..count-1] (NaN where undefined).
 * Exists so tests can compare our indicators with a reference implementation.
 * Returns SUCCESS, NULL_POINTER or INVALID_PARAMETER. */
ASK_EXPORT int ASK_API asirikuy_indicator(int kind, const CRates* pRates, int count, int period,
                                          double param, double* pOut);

/* The last `tail` values (bars count-tail .. count-1) of asirikuy_indicator's series into
 * out[0..tail-1], computing only what they need: what a strategy reads on one call. */
ASK_EXPORT int ASK_API asirikuy_indicator_tail(int kind, const CRates* pRates, int count, int period,
                                               double param, int tail, double* pOut);

/* Per window: out[e] (e = window-1 .. count-1) = the value at bar e - shift of the indicator
 * computed over the `window` bars e-window+1 .. e alone, exactly as a strategy handed those bars
 * computes it; out[0..window-2] = NaN. One call gives a backtest every value a strategy reads. */
ASK_EXPORT int ASK_API asirikuy_indicator_windows(int kind, const CRates* pRates, int count,
                                                  int period, double param, int window, int shift,
                                                  double* pOut);

/* ---- Dropped actions of the last c_runStrategy call (our extension) -------- */

/* Why an action a strategy asked for was not written into a result row. */
#define ASK_DROP_ROWS_FULL 1      /* all MAX_OPEN_ORDERS result rows were taken */
#define ASK_DROP_MAX_OPEN 2       /* an entry would exceed MAX_OPEN_ORDERS open orders */
#define ASK_DROP_MONITOR 3        /* OPERATIONAL_MODE 2 (monitor): no new entries */
#define ASK_DROP_SPREAD 4         /* ask - bid above MAX_SPREAD */
#define ASK_DROP_DRAWDOWN 5       /* largest drawdown at or above MAX_DRAWDOWN_PERCENT */
#define ASK_DROP_NO_SIZE 6        /* no stop and no ATR (or no equity): lots cannot be computed */
#define ASK_MAX_DROPS 32

/* Write up to `capacity` dropped actions of this thread's last c_runStrategy call as triples
 * (signal bit, order type, ASK_DROP_* reason) into pOut; return how many there were (which may
 * exceed capacity). A call that returned an error dropped nothing (its rows were cleared). */
ASK_EXPORT int ASK_API asirikuy_last_drops(int* pOut, int capacity);

/* c_runStrategy with its 22 arguments read from pArgs[0..21] in the ABI's order (settings, the four
 * strings, &time, &count, orders, account, bid/ask, rates info, rates 0..9, results): one argument for a
 * foreign-function layer to convert instead of 22 (the parity backtester calls it once per bar). Writes
 * the call's dropped-action count (asirikuy_last_drops' return) to *pDropped when not NULL. */
ASK_EXPORT int ASK_API asirikuy_run_strategy_args(void* const* pArgs, int* pDropped);

/* asirikuy_run_strategy_args for a backtester replaying closed bars: writes the forming bar into the last
 * element of slot 0's window (rates info 0's ratesArraySize) before the call — open, high, low and close
 * pForming[0], volume 0, time pForming[1] — and restores the element after it, so the caller's series is
 * as it was. pOut[0]: the call's dropped-action count; pOut[1]: 1 when a result row holds a signal mask
 * (the call left an action to translate), else 0. NULL_POINTER / INVALID_PARAMETER (a size or time that
 * is not an integer in range, a price that is not finite) before anything is written. */
ASK_EXPORT int ASK_API asirikuy_run_strategy_forming(void* const* pArgs, int* pOut,
                                                     const double* pForming);

#ifdef __cplusplus
}
#endif

#endif /* ASIRIKUY_FRAMEWORK_H */
