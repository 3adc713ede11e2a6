-- An exchange's messages are listed in the order this node stored them (seq),
-- not by their published time: that has second resolution, so two messages
-- sent within a second could show the reply before what it answers. Existing
-- messages are numbered in the order they were listed until now.
--
-- SQLite numbers rows only through an INTEGER PRIMARY KEY, which ALTER TABLE
-- cannot add, so the table is rebuilt; seq comes last to match PostgreSQL,
-- where it is added as a column.
CREATE TABLE exchange_messages_by_arrival (
    iri TEXT NOT NULL UNIQUE,
    exchange_id TEXT NOT NULL REFERENCES exchanges(id) ON DELETE CASCADE,
    author_iri TEXT NOT NULL,
    content TEXT NOT NULL,
    published TEXT NOT NULL,
    document TEXT NOT NULL,
    seq INTEGER PRIMARY KEY
);
INSERT INTO exchange_messages_by_arrival
    (iri, exchange_id, author_iri, content, published, document, seq)
    SELECT iri, exchange_id, author_iri, content, published, document,
           row_number() OVER (ORDER BY published, iri)
    FROM exchange_messages;
DROP TABLE exchange_messages;
ALTER TABLE exchange_messages_by_arrival RENAME TO exchange_messages;
CREATE INDEX exchange_messages_exchange ON exchange_messages(exchange_id, seq);
