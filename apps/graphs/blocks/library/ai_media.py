"""AI beyond chat (SPEC §16): image generation, embeddings, semantic similarity and
text-to-speech through an OpenAI-compatible API, with the official client and the same
credentials and address rule as the AI text blocks."""

import base64
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Literal

from apps.common.lazy_modules import lazy_module
from apps.graphs.blocks import llm
from apps.graphs.blocks.base import (
    PROVIDER_RETRY,
    Block,
    BlockCategory,
    BlockCost,
    BlockOutput,
    BlockSchema,
    SchemaField,
)
from apps.graphs.blocks.context import BlockContext

if TYPE_CHECKING:
    import openai
else:  # imported at its first use: see apps.common.lazy_modules
    openai = lazy_module("openai")

TIMEOUT_SECONDS = 120
MAX_TEXTS = 256


class _MediaBlock(Block):
    categories = frozenset({BlockCategory.AI})
    credentials_provider = llm.PROVIDER
    retry_policy = PROVIDER_RETRY

    def run(self, input_data: Any, context: BlockContext) -> Iterator[tuple[str, Any]]:
        credentials = context.credentials.get(llm.PROVIDER)
        if credentials is None or credentials.error:
            yield (
                "error",
                (credentials.error if credentials else None)
                or (
                    "No credentials for the OpenAI-compatible provider: add yours on the "
                    "Credentials page."
                ),
            )
            return
        client = llm.Llm(
            credentials, http=context.http, timeout=TIMEOUT_SECONDS, report=context.report_failure
        )
        try:
            yield from self.call(input_data, context, client)
        except openai.OpenAIError as exc:
            yield "error", str(client.failed(exc))

    def call(self, input_data: Any, context: BlockContext, client: llm.Llm) -> Iterator:
        raise NotImplementedError


def _embed(client: llm.Llm, model: str, texts: list[str], context: BlockContext) -> list:
    answer = client.client.embeddings.create(model=model, input=texts)
    if answer.usage is not None:
        context.add_stats(input_token_count=answer.usage.prompt_tokens, llm_call_count=1)
    return [item.embedding for item in sorted(answer.data, key=lambda item: item.index)]


def cosine(a: list[float], b: list[float]) -> float:
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return sum(x * y for x, y in zip(a, b, strict=True)) / norm if norm else 0.0


class CreateEmbeddingsBlock(_MediaBlock):
    id = "7c79f3c2-7733-415c-9bf8-53c998edfb37"
    name = "AI Embeddings"
    description = "Turns texts into embedding vectors (for search, clustering, similarity)."
    costs = (BlockCost(amount=1),)

    class Input(BlockSchema):
        texts: list[str] = SchemaField(description="The texts to embed.")
        model: str = SchemaField("text-embedding-3-small")

    class Output(BlockOutput):
        embeddings: list[list[float]] = SchemaField(description="One vector per text, in order.")

    test_input = [
        {"texts": ["sea otters", "river otters"]},
        {"texts": ["x"], "model": "error-429"},
    ]
    test_output = [
        ("embeddings", lambda vectors: len(vectors) == 2 and len(vectors[0]) == 16),
        ("error", lambda message: "answered 429" in message),
    ]

    def call(self, input_data: Input, context: BlockContext, client: llm.Llm) -> Iterator:
        if not input_data.texts or len(input_data.texts) > MAX_TEXTS:
            yield "error", f"Give 1 to {MAX_TEXTS} texts."
            return
        yield "embeddings", _embed(client, input_data.model, input_data.texts, context)


class SemanticSimilarityBlock(_MediaBlock):
    id = "41a8cef6-42fc-43ec-904c-b5e2a762526f"
    name = "AI Text Similarity"
    description = (
        "Ranks candidate texts by meaning against a query (cosine similarity of embeddings): "
        "each candidate with its score, best first."
    )
    costs = (BlockCost(amount=1),)

    class Input(BlockSchema):
        query: str = SchemaField(description="The text to compare with.")
        candidates: list[str] = SchemaField(description="The texts to rank.")
        model: str = SchemaField("text-embedding-3-small")

    class Output(BlockOutput):
        ranked: list[dict[str, Any]] = SchemaField(description="{text, score}, best first.")
        best: str = SchemaField(description="The closest candidate.")

    test_input = [
        {"query": "sea otters swim", "candidates": ["stock prices fall", "otters swim"]},
        {"query": "x", "candidates": ["y"], "model": "error-500"},
    ]
    test_output = [
        ("ranked", lambda rows: [r["text"] for r in rows] == ["otters swim", "stock prices fall"]),
        ("best", "otters swim"),
        ("error", lambda message: "answered 500" in message),
    ]  # fmt: skip

    def call(self, input_data: Input, context: BlockContext, client: llm.Llm) -> Iterator:
        if not input_data.candidates or len(input_data.candidates) >= MAX_TEXTS:
            yield "error", f"Give 1 to {MAX_TEXTS - 1} candidates."
            return
        vectors = _embed(
            client, input_data.model, [input_data.query, *input_data.candidates], context
        )
        scored = sorted(
            ((text, round(cosine(vectors[0], vector), 6))
             for text, vector in zip(input_data.candidates, vectors[1:], strict=True)),
            key=lambda pair: pair[1], reverse=True,
        )  # fmt: skip
        ranked = [{"text": text, "score": score} for text, score in scored]
        yield "ranked", ranked
        yield "best", ranked[0]["text"]


class GenerateImageBlock(_MediaBlock):
    id = "c5fae43d-bb6b-4052-8d66-49950ce98ba8"
    name = "AI Image Generator"
    description = "Generates an image from a prompt; outputs it as a data: URL (PNG)."
    costs = (BlockCost(amount=5),)

    class Input(BlockSchema):
        prompt: str = SchemaField(description="What to draw.", max_length=4000)
        model: str = SchemaField("gpt-image-1")
        size: Literal["1024x1024", "1024x1536", "1536x1024"] = SchemaField("1024x1024")

    class Output(BlockOutput):
        image: str = SchemaField(description="data:image/png;base64,…")
        revised_prompt: str = SchemaField(description="The prompt as the model used it.")

    test_input = [{"prompt": "an otter"}, {"prompt": "x", "model": "error-401"}]
    test_output = [
        ("image", lambda url: url.startswith("data:image/png;base64,iVBOR")),
        ("revised_prompt", "An image of an otter"),
        ("error", lambda message: "answered 401" in message and "sk-test" not in message),
    ]

    def call(self, input_data: Input, context: BlockContext, client: llm.Llm) -> Iterator:
        answer = client.client.images.generate(
            model=input_data.model, prompt=input_data.prompt, size=input_data.size, n=1
        )
        image = answer.data[0] if answer.data else None
        if image is None or not image.b64_json:
            yield "error", "The provider returned no image."
            return
        yield "image", f"data:image/png;base64,{image.b64_json}"
        yield "revised_prompt", image.revised_prompt or input_data.prompt


class TextToSpeechBlock(_MediaBlock):
    id = "5b0673a9-e3bb-4995-ac8c-1924cb92fd44"
    name = "AI Text to Speech"
    description = "Reads a text aloud; outputs the audio as a data: URL (MP3)."
    costs = (BlockCost(amount=2),)

    class Input(BlockSchema):
        text: str = SchemaField(description="What to say.", max_length=4096)
        voice: str = SchemaField("alloy", description="alloy, echo, fable, onyx, nova, shimmer…")
        model: str = SchemaField("gpt-4o-mini-tts")

    class Output(BlockOutput):
        audio: str = SchemaField(description="data:audio/mpeg;base64,…")

    test_input = [{"text": "Hello otters"}, {"text": "x", "model": "error-500"}]
    test_output = [
        ("audio", "data:audio/mpeg;base64," + base64.b64encode(b"ID3Hello otters").decode()),
        ("error", lambda message: "answered 500" in message),
    ]

    def call(self, input_data: Input, context: BlockContext, client: llm.Llm) -> Iterator:
        answer = client.client.audio.speech.create(
            model=input_data.model, voice=input_data.voice, input=input_data.text
        )
        audio = answer.read()
        yield "audio", "data:audio/mpeg;base64," + base64.b64encode(audio).decode("ascii")
