"""Fake venues on 127.0.0.1 that speak the wire protocol the real clients use.

`FakeAlpaca` answers alpaca-py's TradingClient (account, positions, orders, clock) and
StockHistoricalDataClient (bars, latest quote, latest trade) with JSON shaped like Alpaca's API
reference. `FakeBinance` answers ccxt's `binance` class on its spot REST API (exchangeInfo,
24h ticker, klines, account, order create/query/cancel). Both check the API key header, keep
orders in memory, fill marketable orders when polled, and can inject faults: the next matching
request gets its socket closed without an answer, or an HTTP 503.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def _iso(ts: dt.datetime | None = None) -> str:
    ts = ts or dt.datetime.now(dt.timezone.utc)
    return ts.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        fake: FakeServer = self.server.fake  # type: ignore[attr-defined]
        fault = fake._take_fault(method, parts.path)
        fake.requests.append((method, parts.path, query, raw.decode() if raw else ""))
        if fault == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None and fault != "drop_response":
            status, payload = int(fault), fake.unavailable_body
        else:
            try:
                status, payload = fake.handle(method, parts.path, query, raw, self.headers)
            except Exception as exc:  # a bug in the fake must show up in the test, not hang it
                status, payload = 500, {"code": 500, "message": f"fake server error: {type(exc).__name__}: {exc}"}
            if fault == "drop_response":  # the request was carried out, the answer is lost
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
        text = isinstance(payload, str)
        body = b"" if payload is None else (payload.encode() if text else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_PUT(self) -> None:
        self._serve("PUT")


class FakeServer:
    """An HTTP server on 127.0.0.1 (a free port) with a request log and fault injection."""

    unavailable_body: object = {"code": 50300000, "message": "service unavailable"}

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict, str]] = []
        self._faults: list[tuple[str, str, str | int]] = []
        self._lock = threading.RLock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, kind: str | int, *, method: str = "", path: str = "") -> None:
        """The next request matching `method`/`path` (prefixes) gets `kind`: "close" (socket closed, request
        not carried out), "drop_response" (carried out, then the socket closed) or an HTTP status."""
        with self._lock:
            self._faults.append((method, path, kind))

    def _take_fault(self, method: str, path: str):
        with self._lock:
            for i, (m, p, kind) in enumerate(self._faults):
                if method.startswith(m) and path.startswith(p):
                    del self._faults[i]
                    return kind
        return None

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _, _ in self.requests if m == method and p == path)

    def handle(self, method: str, path: str, query: dict, body: bytes, headers) -> tuple[int, object]:
        raise NotImplementedError

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


# ---- Alpaca ------------------------------------------------------------------------------------
class FakeAlpaca(FakeServer):
    """Alpaca's trading and market-data REST APIs, enough for alpaca-py's clients."""

    def __init__(self, *, key: str = "PKTEST", secret: str = "SECRET", cash: float = 100_000.0,
                 prices: dict[str, float] | None = None, bars: dict[str, list[dict]] | None = None,
                 market_open: bool = True) -> None:
        self.key, self.secret = key, secret
        self.cash = cash
        self.prices = dict(prices or {"AAPL": 100.0})
        self.bars = dict(bars or {})
        self.market_open = market_open
        self.forbid = False
        self.orders: dict[str, dict] = {}
        self.positions: dict[str, list[float]] = {}  # symbol -> [qty, avg]
        self.account_id = str(uuid.uuid4())
        super().__init__()

    # -- helpers ------------------------------------------------------------------------------
    @staticmethod
    def _error(status: int, code: int, message: str) -> tuple[int, dict]:
        return status, {"code": code, "message": message}

    def _order_json(self, *, symbol: str, qty: float, side: str, type_: str, tif: str, cid: str,
                    order_class: str = "simple", limit_price=None, stop_price=None, trail_price=None,
                    trail_percent=None, status: str = "accepted") -> dict:
        now = _iso()
        return {
            "id": str(uuid.uuid4()), "client_order_id": cid, "created_at": now, "updated_at": now,
            "submitted_at": now, "filled_at": None, "expired_at": None, "canceled_at": None, "failed_at": None,
            "replaced_at": None, "replaced_by": None, "replaces": None,
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
            "symbol": symbol, "asset_class": "us_equity", "notional": None, "qty": str(qty), "filled_qty": "0",
            "filled_avg_price": None, "order_class": order_class, "order_type": type_, "type": type_, "side": side,
            "time_in_force": tif, "limit_price": None if limit_price is None else str(limit_price),
            "stop_price": None if stop_price is None else str(stop_price), "status": status, "extended_hours": False,
            "legs": None, "trail_percent": None if trail_percent is None else str(trail_percent),
            "trail_price": None if trail_price is None else str(trail_price), "hwm": None,
        }

    def _fill(self, order: dict, price: float) -> None:
        qty = float(order["qty"])
        sign = 1 if order["side"] == "buy" else -1
        pos = self.positions.setdefault(order["symbol"], [0.0, 0.0])
        if sign > 0:
            pos[1] = (pos[0] * pos[1] + qty * price) / (pos[0] + qty) if pos[0] + qty else 0.0
        pos[0] += sign * qty
        if abs(pos[0]) < 1e-12:
            del self.positions[order["symbol"]]
        self.cash -= sign * qty * price
        now = _iso()
        order.update(status="filled", filled_qty=str(qty), filled_avg_price=str(price), filled_at=now, updated_at=now)
        for leg in order.get("legs") or []:
            leg["status"] = "new"

    def match(self) -> None:
        """Fill what the current prices make fillable (called on every order poll)."""
        if not self.market_open:
            return
        for order in list(self.orders.values()):
            candidates = [order] + list(order.get("legs") or [])
            for o in candidates:
                if o["status"] not in ("new", "accepted", "partially_filled"):
                    continue
                price = self.prices[o["symbol"]]
                lim = float(o["limit_price"]) if o["limit_price"] else None
                stop = float(o["stop_price"]) if o["stop_price"] else None
                buy = o["side"] == "buy"
                limit_hit = o["type"] == "limit" and lim is not None and (
                    (buy and price <= lim) or (not buy and price >= lim))
                stop_hit = o["type"] == "stop" and stop is not None and (
                    (buy and price >= stop) or (not buy and price <= stop))
                if o["type"] == "market" or limit_hit or stop_hit:
                    self._fill(o, price if o["type"] != "limit" else lim)
                    if o is not order:  # an exit leg filled: cancel its sibling
                        for sib in order["legs"]:
                            if sib is not o and sib["status"] in ("new", "held", "accepted"):
                                sib.update(status="canceled", canceled_at=_iso())

    def _authorized(self, headers) -> bool:
        return headers.get("APCA-API-KEY-ID") == self.key and headers.get("APCA-API-SECRET-KEY") == self.secret

    # -- routes -------------------------------------------------------------------------------
    def handle(self, method, path, query, body, headers):
        with self._lock:
            if not self._authorized(headers):
                return self._error(401, 40110000, "request is not authorized")
            if self.forbid:
                return self._error(403, 40310000, "forbidden")
            if path.startswith("/v2/stocks/"):
                return self._data(path, query)
            if method == "GET" and path == "/v2/account":
                return 200, self._account()
            if method == "GET" and path == "/v2/clock":
                now = dt.datetime.now(dt.timezone.utc)
                return 200, {"timestamp": _iso(now), "is_open": self.market_open,
                             "next_open": _iso(now + dt.timedelta(hours=12)),
                             "next_close": _iso(now + dt.timedelta(hours=3))}
            if method == "GET" and path == "/v2/positions":
                return 200, [self._position(s, q, a) for s, (q, a) in sorted(self.positions.items())]
            if method == "POST" and path == "/v2/orders":
                return self._submit(json.loads(body or b"{}"))
            if method == "GET" and path == "/v2/orders":
                self.match()
                status = query.get("status", "open")
                orders = sorted(self.orders.values(), key=lambda o: o["submitted_at"])
                if status == "open":
                    orders = [o for o in orders if o["status"] in ("new", "accepted", "partially_filled", "held")]
                elif status == "closed":
                    orders = [o for o in orders if o["status"] not in ("new", "accepted", "partially_filled", "held")]
                return 200, orders
            if method == "GET" and path == "/v2/orders:by_client_order_id":
                self.match()
                cid = query.get("client_order_id")
                for o in self.orders.values():
                    if o["client_order_id"] == cid:
                        return 200, o
                return self._error(404, 40410000, f"order not found for {cid}")
            if path.startswith("/v2/orders/"):
                oid = path.rsplit("/", 1)[1]
                order = self.orders.get(oid)
                if order is None:
                    return self._error(404, 40410000, "order not found")
                if method == "GET":
                    self.match()
                    return 200, order
                if method == "DELETE":
                    if order["status"] in ("filled", "canceled", "expired", "rejected", "replaced"):
                        return self._error(422, 42210000, f"order is already in \"{order['status']}\" state")
                    order.update(status="canceled", canceled_at=_iso(), updated_at=_iso())
                    for leg in order.get("legs") or []:
                        leg.update(status="canceled", canceled_at=_iso())
                    return 204, None
                if method == "PATCH":
                    data = json.loads(body or b"{}")
                    new = dict(order, id=str(uuid.uuid4()), replaces=oid, status="accepted",
                               client_order_id=data.get("client_order_id") or str(uuid.uuid4()))
                    for name in ("limit_price", "stop_price", "qty"):
                        if data.get(name) is not None:
                            new[name] = str(data[name])
                    order.update(status="replaced", replaced_by=new["id"], replaced_at=_iso())
                    self.orders[new["id"]] = new
                    return 200, new
            return self._error(404, 40410000, f"no route {method} {path}")

    def _account(self) -> dict:
        positions = sum(q * self.prices.get(s, a) for s, (q, a) in self.positions.items())
        equity = self.cash + positions
        return {
            "id": self.account_id, "account_number": "PA3TEST0001", "status": "ACTIVE", "crypto_status": "ACTIVE",
            "currency": "USD", "buying_power": str(self.cash * 2), "regt_buying_power": str(self.cash * 2),
            "daytrading_buying_power": "0", "non_marginable_buying_power": str(self.cash), "cash": str(self.cash),
            "accrued_fees": "0", "pending_transfer_out": None, "pending_transfer_in": "0",
            "portfolio_value": str(equity), "pattern_day_trader": False, "trading_blocked": False,
            "transfers_blocked": False, "account_blocked": False, "created_at": "2024-01-02T15:00:00Z",
            "trade_suspended_by_user": False, "multiplier": "2", "shorting_enabled": True, "equity": str(equity),
            "last_equity": str(equity), "long_market_value": str(positions), "short_market_value": "0",
            "initial_margin": "0", "maintenance_margin": "0", "last_maintenance_margin": "0", "sma": "0",
            "daytrade_count": 0,
        }

    def _position(self, symbol: str, qty: float, avg: float) -> dict:
        price = self.prices.get(symbol, avg)
        return {
            "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)), "symbol": symbol, "exchange": "NASDAQ",
            "asset_class": "us_equity", "asset_marginable": True, "avg_entry_price": str(avg), "qty": str(qty),
            "side": "long" if qty > 0 else "short", "market_value": str(qty * price), "cost_basis": str(qty * avg),
            "unrealized_pl": str(qty * (price - avg)), "unrealized_plpc": "0", "unrealized_intraday_pl": "0",
            "unrealized_intraday_plpc": "0", "current_price": str(price), "lastday_price": str(price),
            "change_today": "0", "qty_available": str(qty),
        }

    def _submit(self, data: dict):
        cid = data.get("client_order_id") or str(uuid.uuid4())
        if any(o["client_order_id"] == cid for o in self.orders.values()):
            return self._error(422, 40010001, "client_order_id must be unique")
        symbol = data["symbol"]
        if symbol not in self.prices:
            return self._error(422, 40010001, f"asset \"{symbol}\" not found")
        qty = float(data["qty"])
        if data["side"] == "buy" and qty * self.prices[symbol] > self.cash * 2:
            return self._error(403, 40310000, "insufficient buying power")
        order_class = data.get("order_class") or "simple"
        order = self._order_json(symbol=symbol, qty=qty, side=data["side"], type_=data["type"],
                                 tif=data["time_in_force"], cid=cid, order_class=order_class,
                                 limit_price=data.get("limit_price"), stop_price=data.get("stop_price"),
                                 trail_price=data.get("trail_price"), trail_percent=data.get("trail_percent"))
        if order_class in ("bracket", "oto", "oco"):
            exit_side = "sell" if data["side"] == "buy" else "buy"
            legs = []
            if data.get("take_profit"):
                legs.append(self._order_json(symbol=symbol, qty=qty, side=exit_side, type_="limit",
                                             tif=data["time_in_force"], cid=str(uuid.uuid4()),
                                             limit_price=data["take_profit"]["limit_price"], status="held"))
            if data.get("stop_loss"):
                legs.append(self._order_json(symbol=symbol, qty=qty, side=exit_side, type_="stop",
                                             tif=data["time_in_force"], cid=str(uuid.uuid4()),
                                             stop_price=data["stop_loss"]["stop_price"], status="held"))
            order["legs"] = legs
        self.orders[order["id"]] = order
        return 200, order

    def _data(self, path: str, query: dict):
        symbols = query.get("symbols", "").split(",")
        now = dt.datetime.now(dt.timezone.utc)
        if path == "/v2/stocks/bars":
            out = {}
            for sym in symbols:
                start = dt.datetime.fromisoformat(query["start"]) if query.get("start") else None
                end = dt.datetime.fromisoformat(query["end"]) if query.get("end") else None
                rows = [b for b in self.bars.get(sym, [])
                        if (start is None or dt.datetime.fromisoformat(b["t"]) >= start)
                        and (end is None or dt.datetime.fromisoformat(b["t"]) <= end)]
                if query.get("sort") == "desc":
                    rows = rows[::-1]
                if query.get("limit"):
                    rows = rows[: int(query["limit"])]
                out[sym] = rows
            return 200, {"bars": out, "next_page_token": None}
        if path == "/v2/stocks/quotes/latest":
            return 200, {"quotes": {s: {"ap": self.prices[s] + 0.01, "as": 3, "ax": "V", "bp": self.prices[s] - 0.01,
                                        "bs": 2, "bx": "V", "c": ["R"], "t": _iso(now), "z": "C"}
                                    for s in symbols if s in self.prices}}
        if path == "/v2/stocks/trades/latest":
            return 200, {"trades": {s: {"c": ["@"], "i": 52983525029461, "p": self.prices[s], "s": 100,
                                        "t": _iso(now), "x": "V", "z": "C"} for s in symbols if s in self.prices}}
        return self._error(404, 40410000, f"no route {path}")


# ---- Binance (spot, as ccxt.binance calls it) ----------------------------------------------------
class FakeBinance(FakeServer):
    """Binance's spot REST API (api/v3) for ccxt.binance: markets, ticker, klines, account, orders."""

    unavailable_body = "Service Unavailable"  # what Binance's gateway answers with a 503

    def __init__(self, *, key: str = "BNTEST", balances: dict[str, float] | None = None,
                 prices: dict[str, float] | None = None, klines: dict[str, list[list]] | None = None) -> None:
        self.key = key
        self.balances = dict(balances or {"USDT": 10_000.0, "BTC": 0.0})
        self.prices = dict(prices or {"BTCUSDT": 50_000.0, "ETHUSDT": 3_000.0})
        self.klines = dict(klines or {})
        self.orders: dict[int, dict] = {}
        self._next_id = 1000
        super().__init__()

    @staticmethod
    def _error(status: int, code: int, msg: str) -> tuple[int, dict]:
        return status, {"code": code, "msg": msg}

    def _symbol_info(self, symbol: str) -> dict:
        base = symbol[:-4]
        return {
            "symbol": symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8, "quoteAsset": "USDT",
            "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
            "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
            "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
            "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000",
                 "tickSize": "0.01000000"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True,
                 "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
            ],
            "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
            "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
        }

    def _fill(self, order: dict, price: float) -> None:
        qty = float(order["origQty"])
        base, quote = order["symbol"][:-4], "USDT"
        sign = 1 if order["side"] == "BUY" else -1
        self.balances[base] = self.balances.get(base, 0.0) + sign * qty
        self.balances[quote] = self.balances.get(quote, 0.0) - sign * qty * price
        order.update(status="FILLED", executedQty=f"{qty:.8f}", cummulativeQuoteQty=f"{qty * price:.8f}",
                     updateTime=int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000))

    def match(self) -> None:
        for order in self.orders.values():
            if order["status"] != "NEW":
                continue
            price = self.prices[order["symbol"]]
            limit = float(order["price"])
            buy = order["side"] == "BUY"
            if order["type"] == "MARKET" or (buy and price <= limit) or (not buy and price >= limit):
                self._fill(order, price if order["type"] == "MARKET" else limit)

    def _query(self, order: dict) -> dict:
        return {k: order[k] for k in ("symbol", "orderId", "orderListId", "clientOrderId", "price", "origQty",
                                      "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type", "side",
                                      "stopPrice", "icebergQty", "time", "updateTime", "isWorking", "workingTime",
                                      "origQuoteOrderQty", "selfTradePreventionMode")}

    def handle(self, method, path, query, body, headers):
        with self._lock:
            params = dict(query)
            if body:
                params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
            if path == "/api/v3/exchangeInfo":
                return 200, {"timezone": "UTC", "serverTime": int(dt.datetime.now().timestamp() * 1000),
                             "rateLimits": [], "exchangeFilters": [],
                             "symbols": [self._symbol_info(s) for s in sorted(self.prices)]}
            if path == "/api/v3/ticker/24hr":
                s = params["symbol"]
                p = self.prices[s]
                now = int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
                return 200, {"symbol": s, "priceChange": "0.00", "priceChangePercent": "0.000",
                             "weightedAvgPrice": f"{p:.2f}", "prevClosePrice": f"{p:.2f}", "lastPrice": f"{p:.2f}",
                             "lastQty": "0.01", "bidPrice": f"{p - 0.5:.2f}", "bidQty": "1.2",
                             "askPrice": f"{p + 0.5:.2f}", "askQty": "0.8", "openPrice": f"{p:.2f}",
                             "highPrice": f"{p * 1.01:.2f}", "lowPrice": f"{p * 0.99:.2f}", "volume": "1234.5",
                             "quoteVolume": f"{1234.5 * p:.2f}", "openTime": now - 86_400_000, "closeTime": now,
                             "firstId": 1, "lastId": 100, "count": 100}
            if path == "/api/v3/klines":
                rows = self.klines.get(params["symbol"], [])
                start = int(params.get("startTime") or 0)
                rows = [r for r in rows if r[0] >= start][: int(params.get("limit") or 500)]
                return 200, rows
            # signed endpoints
            if headers.get("X-MBX-APIKEY") != self.key:
                return self._error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            if "signature" not in params or "timestamp" not in params:
                return self._error(400, -1102, "Mandatory parameter 'signature' was not sent.")
            if path == "/api/v3/account":
                return 200, {"makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
                             "sellerCommission": 0, "commissionRates": {"maker": "0.00100000", "taker": "0.00100000",
                                                                        "buyer": "0", "seller": "0"},
                             "canTrade": True, "canWithdraw": False, "canDeposit": False, "brokered": False,
                             "requireSelfTradePrevention": False, "preventSor": False,
                             "updateTime": int(dt.datetime.now().timestamp() * 1000), "accountType": "SPOT",
                             "balances": [{"asset": a, "free": f"{v:.8f}", "locked": "0.00000000"}
                                          for a, v in sorted(self.balances.items())],
                             "permissions": ["SPOT"], "uid": 1}
            if path == "/api/v3/order" and method == "POST":
                return self._create(params)
            if path == "/api/v3/order":
                self.match()
                order = self._find(params)
                if order is None:
                    return self._error(400, -2013, "Order does not exist.")
                if method == "GET":
                    return 200, self._query(order)
                if method == "DELETE":
                    if order["status"] != "NEW":
                        return self._error(400, -2011, "Unknown order sent.")
                    order["status"] = "CANCELED"
                    out = self._query(order)
                    out["origClientOrderId"] = order["clientOrderId"]
                    return 200, out
            return self._error(404, -1000, f"no route {method} {path}")

    def _find(self, params: dict) -> dict | None:
        if params.get("orderId"):
            return self.orders.get(int(params["orderId"]))
        cid = params.get("origClientOrderId")
        return next((o for o in self.orders.values() if o["clientOrderId"] == cid), None)

    def _create(self, params: dict):
        symbol = params["symbol"]
        if symbol not in self.prices:
            return self._error(400, -1121, "Invalid symbol.")
        cid = params.get("newClientOrderId") or f"x-{uuid.uuid4().hex[:16]}"
        if any(o["clientOrderId"] == cid and o["status"] == "NEW" for o in self.orders.values()):
            return self._error(400, -2010, "Duplicate order sent.")
        qty = float(params["quantity"])
        price = self.prices[symbol]
        if params["side"] == "BUY" and qty * float(params.get("price") or price) > self.balances.get("USDT", 0.0):
            return self._error(400, -2010, "Account has insufficient balance for requested action.")
        self._next_id += 1
        now = int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000)
        order = {"symbol": symbol, "orderId": self._next_id, "orderListId": -1, "clientOrderId": cid,
                 "transactTime": now, "price": params.get("price") or "0.00000000", "origQty": f"{qty:.8f}",
                 "executedQty": "0.00000000", "cummulativeQuoteQty": "0.00000000", "status": "NEW",
                 "timeInForce": params.get("timeInForce", "GTC"), "type": params["type"], "side": params["side"],
                 "stopPrice": "0.00000000", "icebergQty": "0.00000000", "time": now, "updateTime": now,
                 "isWorking": True, "workingTime": now, "origQuoteOrderQty": "0.00000000",
                 "selfTradePreventionMode": "EXPIRE_MAKER"}
        self.orders[order["orderId"]] = order
        out = {k: order[k] for k in ("symbol", "orderId", "orderListId", "clientOrderId", "transactTime", "price",
                                     "origQty", "executedQty", "cummulativeQuoteQty", "status", "timeInForce", "type",
                                     "side", "workingTime", "selfTradePreventionMode")}
        out["fills"] = []
        return 200, out
