"""API v1 routes. Each route class only combines the one-operation API classes that share a URL."""

from __future__ import annotations

from django.urls import include, path

from trading.api import (
    accounts,
    bars,
    bars_data,
    catalog,
    ctrader,
    executions,
    instances,
    instruments,
    orders,
    reconciliation,
    sharing,
    trades,
    virtual,
)

app_name = "api"

urlpatterns = [
    path("accounts/", accounts.AccountCollectionRoute.as_view(), name="accounts"),
    path("accounts/<int:account_id>/", accounts.AccountItemRoute.as_view(), name="account"),
    path("brokers/ctrader/trading-accounts/", ctrader.CTraderTradingAccountsApi.as_view(), name="ctrader-accounts"),
    path("accounts/<int:account_id>/shares/", sharing.AccountShareCollectionRoute.as_view(), name="account-shares"),
    path(
        "accounts/<int:account_id>/shares/<str:username>/",
        sharing.AccountShareDeleteApi.as_view(),
        name="account-share",
    ),
    path("instruments/", instruments.InstrumentCollectionRoute.as_view(), name="instruments"),
    path("instruments/<str:symbol>/", instruments.InstrumentItemRoute.as_view(), name="instrument"),
    path("instances/", instances.InstanceCollectionRoute.as_view(), name="instances"),
    path("instances/<int:instance_id>/", instances.InstanceItemRoute.as_view(), name="instance"),
    path("instances/<int:instance_id>/enable/", instances.InstanceEnableApi.as_view(), name="instance-enable"),
    path("instances/<int:instance_id>/disable/", instances.InstanceDisableApi.as_view(), name="instance-disable"),
    path("instances/<int:instance_id>/run/", instances.InstanceRunApi.as_view(), name="instance-run"),
    path("", include("trading.api.legacy")),  # legacy import/export, foreign strategies, the library in use
    path("bars/", bars.BarListApi.as_view(), name="bars"),
    path("bars/import/", bars_data.BarImportApi.as_view(), name="bars-import"),
    path("bars/coverage/", bars_data.BarCoverageApi.as_view(), name="bars-coverage"),
    path("orders/", orders.OrderListApi.as_view(), name="orders"),
    path("orders/<int:order_id>/", orders.OrderDetailApi.as_view(), name="order"),
    path("trades/", trades.TradeListApi.as_view(), name="trades"),
    path("trades/<int:trade_id>/", trades.TradeDetailApi.as_view(), name="trade"),
    path("trades/<int:trade_id>/close/", trades.TradeCloseApi.as_view(), name="trade-close"),
    path("executions/", executions.ExecutionListApi.as_view(), name="executions"),
    path("executions/<int:execution_id>/", executions.ExecutionDetailApi.as_view(), name="execution"),
    path("catalog/strategies/", catalog.StrategyListApi.as_view(), name="strategies"),
    path("catalog/strategy-load-errors/", catalog.StrategyLoadErrorListApi.as_view(), name="strategy-load-errors"),
    path("catalog/strategies/<int:strategy_id>/", catalog.StrategyDetailApi.as_view(), name="strategy"),
    path(
        "accounts/<int:account_id>/reconcile/", reconciliation.AccountReconcileApi.as_view(), name="account-reconcile"
    ),
    path("accounts/<int:account_id>/virtual-net/", virtual.AccountVirtualNetApi.as_view(), name="account-virtual-net"),
    path(
        "accounts/<int:account_id>/virtual-net/repair/",
        virtual.AccountVirtualNetRepairApi.as_view(),
        name="account-virtual-net-repair",
    ),
    path("discrepancies/", reconciliation.DiscrepancyListApi.as_view(), name="discrepancies"),
    path(
        "discrepancies/<int:discrepancy_id>/resolve/",
        reconciliation.DiscrepancyResolveApi.as_view(),
        name="discrepancy-resolve",
    ),
]
