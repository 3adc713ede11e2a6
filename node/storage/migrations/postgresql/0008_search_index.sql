-- Search filters read narrow indexes instead of the listing rows, which their
-- stored documents make large: walking the newest matches of a word, or the
-- listings inside a radius, then costs an index entry per listing, not a row
-- (see node/storage/search_ranking.py). listings_nearby replaces listings_geo,
-- whose columns it starts with. (SQLite's twin also gives its FTS5 table
-- prefix indexes; PostgreSQL's GIN index answers prefixes as it is.)
CREATE INDEX listings_search ON listings(
    seq, status, deleted_at, origin, purpose, mode, price_amount, price_currency,
    latitude, longitude, member_id
);
CREATE INDEX listings_nearby ON listings(
    latitude, longitude, status, deleted_at, origin, purpose, mode, price_amount,
    price_currency, member_id
);
DROP INDEX listings_geo;
