package com.modelmarket.bench.market;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A model the bench serves, made by {@code bench/models/make_bench_models.py}: its TorchScript
 * file, its manifest, and the one item every request carries, encoded as the Open Inference
 * Protocol's JSON body or with the binary tensor data extension.
 *
 * @param name file name without extension ({@code resnet18})
 * @param slug catalog slug and peer model name ({@code resnet18})
 * @param kind {@code light} or {@code heavy}, as the report calls it
 * @param item one item's values, row-major
 * @param itemShape the input shape of one item, batch dimension 1 included
 */
record BenchModel(String name, String slug, String kind, Path artifact, JsonObject manifest, String inputName,
                  String outputName, float[] item, long[] itemShape) {

    /** The wire format of tensors in a request and its answer. */
    enum Encoding {
        JSON, BINARY;

        String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * Reads {@code dir/name.pt} and {@code dir/name.json}. The item is the manifest's first example
     * item, or, with {@code randomItem}, seeded random values in [-2, 2) (an image as a client
     * sends it: every float at full precision, so JSON bodies have their real size).
     */
    static BenchModel load(Path dir, String name, String slug, String kind, boolean randomItem) throws IOException {
        JsonObject manifest = new JsonObject(Files.readString(dir.resolve(name + ".json")));
        JsonObject input = manifest.getJsonArray("inputs").getJsonObject(0);
        JsonObject example = manifest.getJsonObject("example").getJsonArray("inputs").getJsonObject(0);
        if (!"FP32".equals(input.getString("datatype"))) {
            throw new IllegalArgumentException(name + ": the bench sends FP32 inputs only");
        }
        JsonArray shape = example.getJsonArray("shape");
        long[] itemShape = new long[shape.size()];
        int elements = 1;
        for (int i = 0; i < itemShape.length; i++) {
            itemShape[i] = i == 0 ? 1 : shape.getLong(i);
            elements *= (int) itemShape[i];
        }
        float[] item = new float[elements];
        if (randomItem) {
            Random random = new Random(20261122L);
            for (int i = 0; i < elements; i++) {
                item[i] = random.nextFloat() * 4 - 2;
            }
        } else {
            JsonArray data = example.getJsonArray("data");
            for (int i = 0; i < elements; i++) {
                item[i] = data.getNumber(i).floatValue();
            }
        }
        String output = manifest.getJsonArray("outputs").getJsonObject(0).getString("name");
        return new BenchModel(name, slug, kind, dir.resolve(name + ".pt"), manifest, input.getString("name"), output,
                item, itemShape);
    }

    /** The inference request over HTTP, with the API key (marketplace) or without (peer). */
    LoadTarget inferTarget(String apiKey, Encoding encoding) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        if (apiKey != null) {
            headers.add("Authorization", "Bearer " + apiKey);
        }
        Buffer body;
        if (encoding == Encoding.JSON) {
            headers.add("Content-Type", "application/json");
            body = jsonBody();
        } else {
            Buffer header = binaryHeader().toBuffer();
            headers.add("Content-Type", "application/octet-stream");
            headers.add(LoadGenerator.BINARY_HEADER, Integer.toString(header.length()));
            body = header.appendBuffer(Buffer.buffer(littleEndian()));
        }
        return new LoadTarget(HttpMethod.POST, "/v2/models/" + slug + "/infer", headers, body, 1);
    }

    /** {@code {"inputs": [{"name", "datatype", "shape", "data"}]}} with floats as Java prints them (shortest exact). */
    Buffer jsonBody() {
        StringBuilder json = new StringBuilder(item.length * 12 + 200);
        json.append("{\"inputs\":[{\"name\":\"").append(inputName).append("\",\"datatype\":\"FP32\",\"shape\":")
                .append(shapeJson()).append(",\"data\":[");
        for (int i = 0; i < item.length; i++) {
            if (i > 0) {
                json.append(',');
            }
            json.append(item[i]);
        }
        json.append("]}]}");
        return Buffer.buffer(json.toString());
    }

    private JsonObject binaryHeader() {
        return new JsonObject()
                .put("inputs", new JsonArray().add(new JsonObject().put("name", inputName).put("datatype", "FP32")
                        .put("shape", new JsonArray(shapeJsonList()))
                        .put("parameters", new JsonObject().put("binary_data_size", item.length * Float.BYTES))))
                .put("outputs", new JsonArray().add(new JsonObject().put("name", outputName)
                        .put("parameters", new JsonObject().put("binary_data", true))));
    }

    private byte[] littleEndian() {
        ByteBuffer bytes = ByteBuffer.allocate(item.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(item);
        return bytes.array();
    }

    private String shapeJson() {
        return new JsonArray(shapeJsonList()).encode();
    }

    private java.util.List<Object> shapeJsonList() {
        java.util.List<Object> dims = new java.util.ArrayList<>();
        for (long d : itemShape) {
            dims.add(d);
        }
        return dims;
    }

    /**
     * Why an answer to one item is not what the request asked for, or null if it is: status 200,
     * one output of the manifest's width, as JSON data or as binary bytes after the JSON header.
     */
    String problemWith(Http.Reply reply, Encoding encoding) {
        if (reply.status() != 200) {
            return "HTTP " + reply.status() + " " + reply.body().toString().substring(0, Math.min(300, reply.body().length()));
        }
        long width = manifest.getJsonArray("outputs").getJsonObject(0).getJsonArray("shape").getLong(1);
        String headerLength = reply.headers().get(LoadGenerator.BINARY_HEADER);
        if (encoding == Encoding.JSON) {
            JsonArray data = reply.json().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
            return data.size() == width ? null : "JSON output has " + data.size() + " values, expected " + width;
        }
        if (headerLength == null) {
            return "binary output asked for, but no " + LoadGenerator.BINARY_HEADER + " in the answer";
        }
        int n = Integer.parseInt(headerLength);
        JsonObject header = reply.body().getBuffer(0, n).toJsonObject();
        long size = header.getJsonArray("outputs").getJsonObject(0).getJsonObject("parameters").getLong("binary_data_size");
        return size == width * Float.BYTES && reply.body().length() == n + size ? null
                : "binary output of " + size + " bytes in a body of " + reply.body().length() + ", expected " + width * 4;
    }
}
