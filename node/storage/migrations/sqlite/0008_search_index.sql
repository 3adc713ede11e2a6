-- Search filters read narrow indexes instead of the listing rows, which their
-- stored documents make a page each: walking the newest matches of a word, or
-- the listings inside a radius, then costs an index entry per listing, not a
-- row (see node/storage/search_ranking.py). listings_nearby replaces
-- listings_geo, whose columns it starts with.
CREATE INDEX listings_search ON listings(
    seq, status, deleted_at, origin, purpose, mode, price_amount, price_currency,
    latitude, longitude, member_id
);
CREATE INDEX listings_nearby ON listings(
    latitude, longitude, status, deleted_at, origin, purpose, mode, price_amount,
    price_currency, member_id
);
DROP INDEX listings_geo;

-- The last typed word matches as a prefix. FTS5 answers a prefix by merging
-- the posting lists of every word that starts with it, a pass over all of
-- them for a common word; prefix indexes of 3 and 4 characters answer those
-- prefixes from one list, walked newest first like any word.
CREATE VIRTUAL TABLE listings_fts_prefixed USING fts5(
    title, content, categories,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3 4'
);
INSERT INTO listings_fts_prefixed (rowid, title, content, categories)
    SELECT rowid, title, content, categories FROM listings_fts;
DROP TABLE listings_fts;
ALTER TABLE listings_fts_prefixed RENAME TO listings_fts;
