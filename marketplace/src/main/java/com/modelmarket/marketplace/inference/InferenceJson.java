package com.modelmarket.marketplace.inference;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads an inference request body in one streaming pass. It yields what {@code
 * Buffer.toJsonValue()} would, with one difference: each input's {@code data} array becomes a
 * {@link FlatData} instead of a tree of boxed numbers. An image-sized tensor (150,528 numbers) then
 * costs one primitive array instead of 150,528 objects, and the bytes are parsed as UTF-8 directly,
 * never decoded to a {@code String} first. Same parser settings as Vert.x's (same limits on depth
 * and number length), so malformed JSON is refused the same way.
 */
public final class InferenceJson {

    private enum Where { ROOT, INPUTS, INPUT, ELSEWHERE }

    private InferenceJson() {
    }

    /** The body's top-level value: a {@link JsonObject} for a well-formed request. */
    public static Object parse(Buffer body) {
        JsonParser parser = JacksonCodec.createParser(body);
        try (parser) {
            parser.enable(JsonParser.Feature.USE_FAST_DOUBLE_PARSER);
            if (parser.nextToken() == null) {
                throw new DecodeException("Failed to decode: no content");
            }
            Object value = value(parser, Where.ROOT);
            if (parser.nextToken() != null) {
                throw new DecodeException("Unexpected trailing token");
            }
            return value;
        } catch (IOException e) {
            throw new DecodeException("Failed to decode: " + e.getMessage(), e);
        }
    }

    private static Object value(JsonParser p, Where where) throws IOException {
        JsonToken token = p.currentToken();
        return switch (token) {
            case START_OBJECT -> object(p, where);
            case START_ARRAY -> array(p, where == Where.ROOT ? Where.ELSEWHERE : where);
            case VALUE_STRING -> p.getText();
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> p.getNumberValue();
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw new DecodeException("Unexpected token " + token);
        };
    }

    private static JsonObject object(JsonParser p, Where where) throws IOException {
        Map<String, Object> map = new LinkedHashMap<>();
        String field;
        while ((field = p.nextFieldName()) != null) {
            JsonToken token = p.nextToken();
            Object v;
            if (where == Where.INPUT && field.equals("data") && token == JsonToken.START_ARRAY) {
                FlatData data = new FlatData();
                flatten(p, data, 0);
                v = data;
            } else if (where == Where.ROOT && field.equals("inputs") && token == JsonToken.START_ARRAY) {
                v = array(p, Where.INPUTS);
            } else {
                v = value(p, Where.ELSEWHERE);
            }
            map.put(field, v);
        }
        return new JsonObject(map);
    }

    private static JsonArray array(JsonParser p, Where where) throws IOException {
        List<Object> list = new ArrayList<>();
        Where element = where == Where.INPUTS ? Where.INPUT : Where.ELSEWHERE;
        while (p.nextToken() != JsonToken.END_ARRAY) {
            list.add(value(p, element));
        }
        return new JsonArray(list);
    }

    /** Appends an array's scalars, depth first; the parser stands on its START_ARRAY. */
    private static void flatten(JsonParser p, FlatData out, int depth) throws IOException {
        JsonToken token;
        while ((token = p.nextToken()) != JsonToken.END_ARRAY) {
            switch (token) {
                case VALUE_NUMBER_INT -> {
                    if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                        out.add(FlatData.Kind.BIG, Double.doubleToRawLongBits(p.getBigIntegerValue().doubleValue()));
                    } else {
                        out.add(FlatData.Kind.LONG, p.getLongValue());
                    }
                }
                case VALUE_NUMBER_FLOAT -> out.add(FlatData.Kind.DOUBLE, Double.doubleToRawLongBits(p.getDoubleValue()));
                case VALUE_TRUE -> out.add(FlatData.Kind.TRUE, 1);
                case VALUE_FALSE -> out.add(FlatData.Kind.FALSE, 0);
                case START_ARRAY -> {
                    if (depth + 1 > FlatData.MAX_DEPTH) {
                        out.markTooDeep();
                        p.skipChildren();
                    } else {
                        flatten(p, out, depth + 1);
                    }
                }
                case START_OBJECT -> {
                    p.skipChildren();
                    out.add(FlatData.Kind.OTHER, 0);
                }
                case VALUE_STRING, VALUE_NULL -> out.add(FlatData.Kind.OTHER, 0);
                default -> throw new DecodeException("Unexpected token " + token);
            }
        }
    }
}
