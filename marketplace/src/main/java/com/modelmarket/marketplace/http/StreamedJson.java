package com.modelmarket.marketplace.http;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.EncodeException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;

/**
 * JSON bodies of hot paths written in one streaming pass into the buffer that goes out, instead
 * of a {@code JsonObject} tree encoded to a {@code String} and then to UTF-8. The bytes are those
 * of {@link Responses#json} for the same values: Jackson's generator with its defaults (as Vert.x's
 * codec writes; its factory only limits reading), and a body whose strings hold a surrogate (a
 * character beyond the BMP, or half of one) goes the way of that {@code String}, since Jackson's
 * UTF-8 writer escapes such characters where {@code String}-to-UTF-8 writes them (or a lone half
 * as {@code '?'}).
 */
public final class StreamedJson {

    private static final JsonFactory FACTORY = new JsonFactory();

    /** Writes one JSON value. */
    public interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private StreamedJson() {
    }

    /**
     * The body as {@link Responses#json} would send it. {@code surrogates}: whether any string in
     * it may hold a surrogate ({@link #hasSurrogate}); those bodies take the {@code String} way.
     */
    public static Buffer asResponse(boolean surrogates, Body body) {
        if (!surrogates) {
            return utf8(Buffer.buffer(256), body);
        }
        StringWriter text = new StringWriter(256);
        try (JsonGenerator g = FACTORY.createGenerator(text)) {
            body.write(g);
        } catch (IOException e) {
            throw new EncodeException("Failed to encode as JSON: " + e.getMessage());
        }
        return Buffer.buffer(text.toString());
    }

    /** Appends the body to {@code into} with Jackson's UTF-8 writer (as {@code JsonObject.toBuffer()} writes). */
    public static Buffer utf8(Buffer into, Body body) {
        try (JsonGenerator g = FACTORY.createGenerator(new BufferOutput(into), JsonEncoding.UTF8)) {
            body.write(g);
        } catch (IOException e) {
            throw new EncodeException("Failed to encode as JSON: " + e.getMessage());
        }
        return into;
    }

    public static boolean hasSurrogate(String s) {
        if (s == null) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** Appends what the generator flushes (once, at its close, for a body under 8 KB) to the buffer. */
    private static final class BufferOutput extends OutputStream {
        private final Buffer body;

        BufferOutput(Buffer body) {
            this.body = body;
        }

        @Override
        public void write(int b) {
            body.appendByte((byte) b);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            body.appendBytes(b, off, len);
        }
    }
}
