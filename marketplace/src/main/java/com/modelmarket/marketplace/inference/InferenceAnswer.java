package com.modelmarket.marketplace.inference;

import com.fasterxml.jackson.core.JsonGenerator;
import com.modelmarket.marketplace.http.StreamedJson;
import com.modelmarket.serving.model.Tensor;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The body of an inference answer (Open Inference Protocol), written in one streaming pass into
 * the buffer that goes out: {@code model_name}, {@code model_version}, the request's {@code id} if
 * it had one, and {@code outputs} — each as JSON data, or for the binary data extension as a JSON
 * header naming its {@code binary_data_size}, its raw bytes after the JSON. The bytes are those of
 * building the answer as a {@code JsonObject} and encoding it with Vert.x's Jackson codec, without
 * the tree of boxed numbers, the intermediate {@code String} and its UTF-8 copy, which were a
 * quarter of a light request's allocation.
 */
final class InferenceAnswer {

    /** The encoded answer: the JSON, then {@code binaryBytes} bytes of binary outputs (none: plain JSON). */
    record Encoded(Buffer body, int jsonLength, int binaryBytes) {
    }

    private InferenceAnswer() {
    }

    static Encoded encode(String modelName, String modelVersion, TensorCodec.Decoded request, List<Tensor> outputs) {
        boolean binary = false;
        boolean surrogates = hasSurrogate(modelName) || hasSurrogate(modelVersion) || hasSurrogate(request.id());
        for (Tensor t : outputs) {
            binary |= request.binary(t.name()) && t.byteSize() > 0;
            surrogates |= hasSurrogate(t.name());
        }
        StreamedJson.Body json = g -> json(g, modelName, modelVersion, request, outputs);
        if (!binary) { // plain JSON, as Responses.json sent it
            Buffer body = StreamedJson.asResponse(surrogates, json);
            return new Encoded(body, body.length(), 0);
        }
        Buffer body = StreamedJson.utf8(Buffer.buffer(256), json); // the header, as JsonObject.toBuffer() wrote it
        int jsonLength = body.length();
        for (Tensor t : outputs) {
            if (request.binary(t.name())) {
                ByteBuffer data = t.data(); // a view: the bytes are copied once, into the body
                byte[] chunk = new byte[data.remaining()];
                data.get(chunk);
                body.appendBytes(chunk);
            }
        }
        return new Encoded(body, jsonLength, body.length() - jsonLength);
    }

    private static void json(JsonGenerator g, String modelName, String modelVersion, TensorCodec.Decoded request,
                             List<Tensor> outputs) throws IOException {
        g.writeStartObject();
        g.writeStringField("model_name", modelName);
        g.writeStringField("model_version", modelVersion);
        if (request.id() != null) {
            g.writeStringField("id", request.id());
        }
        g.writeArrayFieldStart("outputs");
        for (Tensor t : outputs) {
            if (request.binary(t.name())) {
                binaryHeader(g, t);
            } else {
                tensor(g, t);
            }
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static boolean hasSurrogate(String s) {
        return StreamedJson.hasSurrogate(s);
    }

    /** An output's JSON header for the binary extension: no data, its size in parameters. */
    private static void binaryHeader(JsonGenerator g, Tensor t) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", t.name());
        g.writeStringField("datatype", t.datatype().oipName());
        shape(g, t);
        g.writeObjectFieldStart("parameters");
        g.writeNumberField("binary_data_size", t.byteSize());
        g.writeEndObject();
        g.writeEndObject();
    }

    /** An output as OIP JSON: name, datatype, shape and flat data. */
    private static void tensor(JsonGenerator g, Tensor t) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", t.name());
        g.writeStringField("datatype", t.datatype().oipName());
        shape(g, t);
        g.writeArrayFieldStart("data");
        ByteBuffer data = t.data();
        switch (t.datatype()) {
            case FP32 -> {
                while (data.hasRemaining()) {
                    g.writeNumber(data.getFloat());
                }
            }
            case FP64 -> {
                while (data.hasRemaining()) {
                    g.writeNumber(data.getDouble());
                }
            }
            case BOOL -> {
                while (data.hasRemaining()) {
                    g.writeBoolean(data.get() != 0);
                }
            }
            case INT64 -> {
                while (data.hasRemaining()) {
                    g.writeNumber(data.getLong());
                }
            }
            case INT32 -> {
                while (data.hasRemaining()) {
                    g.writeNumber(data.getInt());
                }
            }
            case INT16 -> {
                while (data.hasRemaining()) {
                    g.writeNumber((int) data.getShort());
                }
            }
            case UINT8 -> {
                while (data.hasRemaining()) {
                    g.writeNumber(data.get() & 0xff);
                }
            }
            default -> {
                while (data.hasRemaining()) {
                    g.writeNumber((int) data.get());
                }
            }
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void shape(JsonGenerator g, Tensor t) throws IOException {
        g.writeArrayFieldStart("shape");
        for (int d = 0; d < t.rank(); d++) {
            g.writeNumber(t.dim(d));
        }
        g.writeEndArray();
    }
}
