-- Reference data: the customers and menu items that orders refer to.
-- Loaded (idempotently) by `foodpipe seed-db` from the list compiled into the
-- binary, which is also what the order generator draws from. Orders keep their
-- own copy of names and prices (an order records what was true when placed),
-- so there are no foreign keys from orders to these tables.

CREATE TABLE customers (
    customer_id varchar(50)  PRIMARY KEY,
    name        text         NOT NULL,
    email       text         NOT NULL UNIQUE,
    created_at  timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE menu_items (
    item_id   varchar(50)    PRIMARY KEY,
    name      text           NOT NULL,
    category  text           NOT NULL,
    -- Money is numeric, never float: it arrives as integer cents.
    price     numeric(10, 2) NOT NULL CHECK (price > 0),
    available boolean        NOT NULL DEFAULT true
);
