"""The portal's views, one module per area: login, dashboard and quote, orders, transactions."""
