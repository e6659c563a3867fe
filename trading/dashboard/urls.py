from __future__ import annotations

from django.urls import path

from trading.dashboard.views import home, instances, statement, tokens, trades

app_name = "dashboard"

urlpatterns = [
    path("", home.dashboard_index, name="index"),
    path("live/banner/", home.dashboard_banner, name="live-banner"),
    path("live/<slug:part>/", home.dashboard_live, name="live"),
    path("coverage/", home.dashboard_coverage, name="coverage"),
    path("accounts/<int:account_id>/", home.dashboard_account, name="account"),
    path("accounts/<int:account_id>/equity.json", home.dashboard_account_equity, name="account-equity"),
    path("accounts/<int:account_id>/trades/", trades.trade_history_view, name="trade-history"),
    path("accounts/<int:account_id>/close-all/", trades.account_close_all_view, name="account-close-all"),
    path("accounts/<int:account_id>/statement/", statement.statement_view, name="statement"),
    path("accounts/<int:account_id>/statement.<slug:fmt>", statement.statement_view, name="statement-file"),
    path("instances/new/", instances.instance_create_view, name="instance-create"),
    path("instances/parameters/", instances.instance_params_view, name="instance-params"),
    path("instances/<int:instance_id>/", instances.instance_detail_view, name="instance"),
    path("instances/<int:instance_id>/edit/", instances.instance_edit_view, name="instance-edit"),
    path("instances/<int:instance_id>/delete/", instances.instance_delete_view, name="instance-delete"),
    path("instances/<int:instance_id>/action/", instances.instance_action_view, name="instance-action"),
    path("instances/<int:instance_id>/chart.json", instances.instance_chart_view, name="instance-chart"),
    path("instances/<int:instance_id>/live/<slug:part>/", instances.instance_live_view, name="instance-live"),
    path("trades/<int:trade_id>/close/", trades.trade_close_view, name="trade-close"),
    path("trades/<int:trade_id>/modify/", trades.trade_modify_view, name="trade-modify"),
    path("tokens/", tokens.tokens_view, name="tokens"),
    path("tokens/<int:token_id>/revoke/", tokens.token_revoke_view, name="token-revoke"),
]
