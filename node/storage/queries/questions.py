"""Public questions on listings (rows of ``listing_replies`` with their
``listing_questions`` companion) and the authors' answers."""

from __future__ import annotations

from node.storage.queries._base import QueryBase, Row, dumps, loads
from node.storage.records import Answer, Question

_SELECT = (
    "SELECT q.id, r.iri, r.listing_seq, r.author_iri, r.content, r.published, r.document,"
    " r.hidden_at, q.hidden_by, q.relay_iri FROM listing_replies r"
    " JOIN listing_questions q ON q.iri = r.iri"
)


def _question(row: Row) -> Question:
    data = dict(row)
    data["document"] = loads(data["document"])
    return Question(**data)


def _answer(row: Row) -> Answer:
    data = dict(row)
    data["document"] = loads(data["document"])
    return Answer(**data)


class QuestionQueries(QueryBase):
    async def save_question(self, question: Question) -> Question:
        """Store a question (a new copy of a known one replaces its text); return it
        as stored, with the id it already had."""
        await self._exec(
            "INSERT INTO listing_replies (iri, listing_seq, author_iri, content, published,"
            " document) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (iri) DO UPDATE SET"
            " content = excluded.content, document = excluded.document",
            (question.iri, question.listing_seq, question.author_iri, question.content,
             question.published, dumps(question.document)),
        )
        await self.ensure_question(question.iri, question.id)
        stored = await self.get_question_by_iri(question.iri)
        assert stored is not None
        return stored

    async def ensure_question(self, iri: str, question_id: str) -> None:
        """Give a listing reply its question row, unless it has one."""
        await self._exec(
            "INSERT INTO listing_questions (iri, id) VALUES (?, ?) ON CONFLICT (iri) DO NOTHING",
            (iri, question_id),
        )

    async def get_question(self, question_id: str) -> Question | None:
        row = await self._one(_SELECT + " WHERE q.id = ?", (question_id,))
        return None if row is None else _question(row)

    async def get_question_by_iri(self, iri: str) -> Question | None:
        row = await self._one(_SELECT + " WHERE r.iri = ?", (iri,))
        return None if row is None else _question(row)

    async def get_question_by_relay(self, relay_iri: str) -> Question | None:
        row = await self._one(_SELECT + " WHERE q.relay_iri = ?", (relay_iri,))
        return None if row is None else _question(row)

    async def list_questions(self, listing_seq: int, *, include_hidden: bool) -> list[Question]:
        sql = _SELECT + " WHERE r.listing_seq = ?"
        if not include_hidden:
            sql += " AND r.hidden_at IS NULL"
        rows = await self._all(sql + " ORDER BY r.published, r.iri LIMIT 500", (listing_seq,))
        return [_question(row) for row in rows]

    async def question_askers(self, listing_seq: int) -> list[str]:
        """Everyone who asked a visible question on the listing."""
        rows = await self._all(
            "SELECT DISTINCT author_iri FROM listing_replies WHERE listing_seq = ?"
            " AND hidden_at IS NULL ORDER BY author_iri",
            (listing_seq,),
        )
        return [row["author_iri"] for row in rows]

    async def set_question_hidden(
        self, iri: str, hidden_at: str | None, hidden_by: str | None
    ) -> None:
        await self._exec("UPDATE listing_replies SET hidden_at = ? WHERE iri = ?",
                         (hidden_at, iri))
        await self._exec("UPDATE listing_questions SET hidden_by = ? WHERE iri = ?",
                         (hidden_by, iri))

    async def set_question_relay(self, iri: str, relay_iri: str | None) -> None:
        await self._exec("UPDATE listing_questions SET relay_iri = ? WHERE iri = ?",
                         (relay_iri, iri))

    async def save_answer(self, answer: Answer) -> None:
        """The answer to a question; a later one replaces it."""
        await self._exec(
            "INSERT INTO listing_answers (question_iri, iri, author_iri, content, published,"
            " document) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (question_iri) DO UPDATE SET"
            " iri = excluded.iri, content = excluded.content, published = excluded.published,"
            " document = excluded.document",
            (answer.question_iri, answer.iri, answer.author_iri, answer.content,
             answer.published, dumps(answer.document)),
        )

    async def get_answer_by_iri(self, iri: str) -> Answer | None:
        row = await self._one("SELECT * FROM listing_answers WHERE iri = ?", (iri,))
        return None if row is None else _answer(row)

    async def answers_to(self, question_iris: list[str]) -> dict[str, Answer]:
        if not question_iris:
            return {}
        marks = ", ".join("?" for _ in question_iris)
        rows = await self._all(
            f"SELECT * FROM listing_answers WHERE question_iri IN ({marks})", question_iris
        )
        return {row["question_iri"]: _answer(row) for row in rows}
