"""Order, service and price-tier admin (built by the orders work)."""
