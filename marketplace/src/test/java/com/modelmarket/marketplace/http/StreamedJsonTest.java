package com.modelmarket.marketplace.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Streamed bodies against the JsonObject encodings they replace, byte for byte. */
class StreamedJsonTest {

    private static final String[] PIECES = {"a", "inference", "\"", "\\", "/", "\n", "\t", "\u0001", "\u007f", "é", "λ",
        "\u2028", "\uD83D\uDE00", "\uD800", "\uDC00", "</", "0", " "};

    @Test
    @DisplayName("asResponse gives the bytes of JsonObject.encode() (as Responses.json sends them), utf8 those of toBuffer(), for 20,000 seeded random bodies")
    void sameBytesAsTheCodec() {
        long seed = Long.getLong("mm.test.seed", System.nanoTime());
        System.out.println("StreamedJsonTest seed " + seed + " (-Dmm.test.seed to repeat)");
        Random random = new Random(seed);
        for (int n = 0; n < 20_000; n++) {
            String a = text(random);
            String b = text(random);
            List<String> list = new ArrayList<>();
            for (int i = random.nextInt(4); i > 0; i--) {
                list.add(text(random));
            }
            JsonObject tree = new JsonObject().put("keyId", a).put("tenantId", b).put("scopes", new JsonArray(list));
            StreamedJson.Body body = g -> {
                g.writeStartObject();
                g.writeStringField("keyId", a);
                g.writeStringField("tenantId", b);
                g.writeArrayFieldStart("scopes");
                for (String s : list) {
                    g.writeString(s);
                }
                g.writeEndArray();
                g.writeEndObject();
            };
            boolean surrogates = StreamedJson.hasSurrogate(a) || StreamedJson.hasSurrogate(b)
                    || list.stream().anyMatch(StreamedJson::hasSurrogate);
            String what = "seed " + seed + " body " + n + ": " + tree.encode();
            assertArrayEquals(Buffer.buffer(tree.encode()).getBytes(), StreamedJson.asResponse(surrogates, body).getBytes(), what);
            assertArrayEquals(tree.toBuffer().getBytes(), StreamedJson.utf8(Buffer.buffer(), body).getBytes(), what);
        }
    }

    private static String text(Random random) {
        StringBuilder s = new StringBuilder();
        for (int i = random.nextInt(6); i > 0; i--) {
            s.append(PIECES[random.nextInt(PIECES.length)]);
        }
        return s.toString();
    }
}
