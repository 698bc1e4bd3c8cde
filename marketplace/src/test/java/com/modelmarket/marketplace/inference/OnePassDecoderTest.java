package com.modelmarket.marketplace.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.modelmarket.marketplace.errors.DomainException;
import com.modelmarket.marketplace.errors.InvalidFieldException;
import com.modelmarket.marketplace.errors.InvalidTensorException;
import com.modelmarket.marketplace.http.FailureHandler;
import com.modelmarket.marketplace.support.Publishing;
import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.ModelManifest;
import com.modelmarket.serving.model.Tensor;
import com.modelmarket.serving.model.TensorSpec;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The route reads inference bodies in one pass straight into tensor bytes ({@link
 * InferenceEnvelope}, {@link TensorCodec#decode(InferenceEnvelope, Buffer, ModelManifest,
 * TensorCodec.Limits)}). This differential test holds it to the path it replaced — {@link
 * InferenceJson#parse} into a tree, then the tree decoder — on seeded random envelopes, valid and
 * invalid, as JSON bodies and as binary-extension headers: the same tensors (names, datatypes,
 * shapes, bytes), outputs and flags, or the same refusal (class, status, words, tensor and reason,
 * JSON pointer), or the same malformed-JSON message.
 */
class OnePassDecoderTest {

    private static final long SEED = Long.getLong("mm.fuzz.seed", System.nanoTime());
    private static final List<String> ODD = List.of("\"1\"", "\"\"", "null", "true", "false", "{}", "{\"a\":1}", "[]", "[[]]",
            "1.5", "-0.0", "-0", "0", "2.0", "1e39", "3.4028235e38", "3.4028236e38", "-3.5e38", "1e308", "1e309", "-1e400",
            "255", "256", "-1", "-128", "-129", "127", "128", "32767", "32768", "-32769", "2147483647", "2147483648",
            "-2147483649", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
            "9.223372036854776E18", "-9.223372036854776E18", "1e19", "123456789012345678901234567890", "4.9e-324",
            "1e-50", "0.1", "7E0", "NaN", "Infinity", "01", "1.", ".5", "+1", "-", "1e", "1e+", "1.5e-", "00", "-01", "0x10", "1_0",
            "123456789012345678", "1234567890123456789", "-123456789012345678", "0.30000000000000004", "1.0000001", "16777217",
            "9007199254740993", "9007199254740993.0", "1e22", "1e23", "4.5e-22", "2.5e-23", "0e5", "0.0e-400", "tru", "nul", "falsey");
    private static final List<String> TYPES = List.of("FP32", "FP64", "INT32", "INT64", "UINT8", "INT8", "INT16", "BOOL",
            "fp32", "FLOAT", "");

    private final TensorCodec.Limits limits = new TensorCodec.Limits(5, 700);

    @Test
    @DisplayName("the one-pass reader and decoder accept and refuse exactly what the tree path does, on seeded envelopes")
    void sameVerdictsAsTheTreePath() {
        Random random = new Random(SEED);
        int cases = Integer.getInteger("mm.fuzz.cases", 1200) * 3;
        int accepted = 0;
        int onePass = 0;
        int acceptedInOnePass = 0;
        for (String fixture : List.of("digits_mlp", "multi_io", "dtypes")) {
            ModelManifest manifest = ModelManifest.fromJson(Publishing.manifest(fixture));
            for (int i = 0; i < cases; i++) {
                Envelope envelope = new Envelope(random, manifest);
                boolean valid = random.nextInt(4) == 0;
                if (!valid) {
                    envelope.damage();
                }
                Body body = envelope.render();
                try {
                    Verdict verdict = compare(body, manifest);
                    accepted += verdict.accepted ? 1 : 0;
                    onePass += verdict.onePass ? 1 : 0;
                    acceptedInOnePass += verdict.accepted && verdict.onePass ? 1 : 0;
                } catch (AssertionError | RuntimeException e) {
                    fail("seed " + SEED + " " + fixture + " case " + i + ": " + e + " for "
                            + (body.json.length() > 400 ? body.json.substring(0, 400) + "…" : body.json)
                            + (body.binary == null ? "" : " with " + body.binary.length() + " binary bytes"), e);
                }
            }
        }
        System.out.println("OnePassDecoderTest seed=" + SEED + " cases=" + 3 * cases + " accepted=" + accepted
                + " read in one pass=" + onePass + " accepted without the tree=" + acceptedInOnePass);
        assertTrue(acceptedInOnePass > cases / 4, "the one pass takes most valid envelopes (seed " + SEED + ")");
        assertTrue(onePass - acceptedInOnePass > cases / 8, "and hands refusals on to the tree (seed " + SEED + ")");
    }

    @Test
    @DisplayName("the light model's request, as JSON and as a binary header, decodes without a tree")
    void theLightRequestTakesTheOnePass() {
        JsonObject manifestJson = Publishing.manifest("digits_mlp");
        ModelManifest manifest = ModelManifest.fromJson(manifestJson);
        Buffer json = manifestJson.getJsonObject("example").toBuffer();
        InferenceEnvelope envelope = InferenceEnvelope.read(json);
        assertNotNull(envelope);
        TensorCodec.Decoded decoded = TensorCodec.decode(envelope, null, manifest, limits);
        assertTrue(envelope.fast() && !envelope.parsedTree(), "read and decoded in one pass");
        TensorCodec.Decoded tree = TensorCodec.decode((JsonObject) InferenceJson.parse(json), manifest, limits);
        assertArrayEquals(tree.inputs().get(0).toByteArray(), decoded.inputs().get(0).toByteArray());

        float[] values = new float[64];
        ByteBuffer bytes = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) {
            values[i] = i / 16f;
            bytes.putFloat(values[i]);
        }
        Buffer header = Buffer.buffer("{\"inputs\":[{\"name\":\"pixels\",\"datatype\":\"FP32\",\"shape\":[1,64],"
                + "\"parameters\":{\"binary_data_size\":256}}],\"parameters\":{\"binary_data_output\":true}}");
        InferenceEnvelope binaryEnvelope = InferenceEnvelope.read(header);
        TensorCodec.Decoded binary = TensorCodec.decode(binaryEnvelope, Buffer.buffer(bytes.array()), manifest, limits);
        assertTrue(binaryEnvelope.fast() && !binaryEnvelope.parsedTree(), "read and decoded in one pass");
        assertTrue(binary.allBinary());
        assertArrayEquals(Tensor.ofFloats("pixels", new long[] {1, 64}, values).toByteArray(), binary.inputs().get(0).toByteArray());
    }

    @Test
    @DisplayName("at and past the tree parser's limits (names, strings, numbers, nesting) and its lenient forms, both paths agree")
    void limitsAndOddForms() {
        ModelManifest manifest = ModelManifest.fromJson(Publishing.manifest("digits_mlp"));
        String valid = Publishing.manifest("digits_mlp").getJsonObject("example").encode();
        String open = valid.substring(0, valid.length() - 1);
        List<String> bodies = new ArrayList<>();
        for (int n : new int[] {999, 1000, 1001, 49_999, 50_000, 50_001}) {
            bodies.add(open + ",\"" + "n".repeat(n) + "\":1}");
        }
        for (int n : new int[] {399, 400, 401, 999, 1000, 1001}) {
            bodies.add(open + ",\"x\":1" + "0".repeat(n) + "}");
            bodies.add(open + ",\"x\":0." + "5".repeat(n) + "}");
        }
        for (int n : new int[] {57, 58, 59, 60, 61, 998, 999, 1000}) {
            bodies.add(open + ",\"x\":" + "[".repeat(n) + "]".repeat(n) + "}");
        }
        bodies.add(open + ",\"x\":\"" + "s".repeat(1_000_001) + "\"}");
        bodies.add("\uFEFF" + valid);
        bodies.add("/* c */" + valid);
        bodies.add(open + " // c\n}");
        bodies.add(open + ",\"n\\u0061me\":1}");
        bodies.add(open.replace("\"inputs\"", "\"inp\\u0075ts\""));
        bodies.add(open + ",\"x\":\"\u007f\u0080é\"}");
        bodies.add(open + ",\"x\":\"a\tb\"}");
        bodies.add(open + "}}");
        bodies.add(open + ",}");
        bodies.add(valid + valid);
        bodies.add(" \r\n\t" + valid + " \r\n\t");
        int accepted = 0;
        for (String body : bodies) {
            try {
                accepted += compare(new Body(body, null), manifest).accepted ? 1 : 0;
            } catch (AssertionError | RuntimeException e) {
                fail(e + " for " + (body.length() > 300 ? body.substring(0, 150) + "…" + body.substring(body.length() - 150) : body), e);
            }
        }
        assertTrue(accepted > 10, "the valid forms are accepted");
    }

    private record Verdict(boolean accepted, boolean onePass) {
    }

    private record Body(String json, Buffer binary) {
    }

    /** Both paths over one body; fails where they differ. */
    private Verdict compare(Body body, ModelManifest manifest) {
        Object expected = treePath(body, manifest);
        InferenceEnvelope[] read = new InferenceEnvelope[1];
        Object actual = outcome(() -> {
            read[0] = InferenceEnvelope.read(Buffer.buffer(body.json));
            if (read[0] == null) {
                return "not an object";
            }
            return TensorCodec.decode(read[0], body.binary, manifest, limits);
        });
        if (expected instanceof TensorCodec.Decoded && read[0] != null && read[0].fast()) {
            // the labels of a split: a body read in one pass has none, the tree (parsed after the verdicts) must agree
            assertFalse(read[0].tree().getValue("parameters") instanceof JsonObject p && p.containsKey("label"),
                    "a body with parameters.label was read in one pass");
        }
        if (expected instanceof TensorCodec.Decoded a) {
            if (!(actual instanceof TensorCodec.Decoded b)) {
                throw new AssertionError("the tree path accepted it, the one pass gave " + actual);
            }
            assertEquals(a.id(), b.id(), "id");
            assertEquals(a.items(), b.items(), "items");
            assertEquals(a.outputs(), b.outputs(), "outputs");
            assertEquals(a.binaryOutputs(), b.binaryOutputs(), "binary outputs");
            assertEquals(a.allBinary(), b.allBinary(), "all binary");
            assertEquals(a.inputs().size(), b.inputs().size(), "inputs");
            for (int i = 0; i < a.inputs().size(); i++) {
                Tensor x = a.inputs().get(i);
                Tensor y = b.inputs().get(i);
                assertEquals(x.name(), y.name());
                assertEquals(x.datatype(), y.datatype());
                assertArrayEquals(x.shape(), y.shape());
                assertArrayEquals(x.toByteArray(), y.toByteArray(), "bytes of " + x.name());
            }
            return new Verdict(true, read[0].fast());
        }
        assertEquals(expected, actual);
        return new Verdict(false, read[0] != null && read[0].fast());
    }

    /** What the route did before: the tree, then the tree decoder. */
    private Object treePath(Body body, ModelManifest manifest) {
        return outcome(() -> {
            Object value = InferenceJson.parse(Buffer.buffer(body.json));
            if (!(value instanceof JsonObject json)) {
                return "not an object";
            }
            return TensorCodec.decode(json, body.binary, manifest, limits);
        });
    }

    /** A decoded request, or a comparable description of the refusal. */
    private static Object outcome(java.util.function.Supplier<Object> path) {
        try {
            return path.get();
        } catch (DecodeException e) {
            return "malformed: " + e.getMessage();
        } catch (DomainException e) {
            String detail = e instanceof InvalidTensorException t ? t.tensor() + " | " + t.reason()
                    : e instanceof InvalidFieldException f ? f.pointer() + " | " + f.problem() : "";
            return e.getClass().getSimpleName() + " " + FailureHandler.statusOf(e) + " " + e.getMessage() + " " + detail;
        } catch (RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    /** A random request for a manifest, as fields that render in any order, and the damage done to it. */
    private static final class Envelope {

        private final Random random;
        private final List<String[]> root = new ArrayList<>();
        private final List<List<String[]>> inputs = new ArrayList<>();
        private final List<byte[]> binary = new ArrayList<>();
        private boolean binaryBody;
        private String tail = "";

        Envelope(Random random, ModelManifest manifest) {
            this.random = random;
            this.binaryBody = random.nextInt(3) == 0;
            int items = 1 + random.nextInt(random.nextInt(8) == 0 ? 7 : 2);
            for (TensorSpec spec : manifest.inputs()) {
                inputs.add(input(spec, items));
            }
            if (random.nextBoolean()) {
                root.add(new String[] {"id", random.nextBoolean() ? "\"req-" + random.nextInt(100) + "\"" : "null"});
            }
            root.add(new String[] {"inputs", null});
            if (random.nextBoolean()) {
                StringBuilder outputs = new StringBuilder("[");
                List<TensorSpec> specs = manifest.outputs();
                for (int k = random.nextInt(specs.size() + 1); k > 0; k--) {
                    outputs.append(outputs.length() > 1 ? "," : "").append("{\"name\":\"")
                            .append(specs.get(random.nextInt(specs.size())).name()).append('"')
                            .append(random.nextBoolean() ? ",\"parameters\":{\"binary_data\":" + random.nextBoolean() + "}" : "")
                            .append('}');
                }
                root.add(new String[] {"outputs", outputs.append(']').toString()});
            }
            if (random.nextBoolean() || binaryBody) {
                root.add(new String[] {"parameters", "{\"binary_data_output\":" + random.nextBoolean() + "}"});
            }
            Collections.shuffle(root, random);
        }

        private List<String[]> input(TensorSpec spec, int items) {
            long[] shape = spec.shape().clone();
            shape[0] = items;
            for (int d = 1; d < shape.length; d++) {
                shape[d] = shape[d] == TensorSpec.ANY ? 1 + random.nextInt(4) : shape[d];
            }
            int count = 1;
            for (long d : shape) {
                count *= (int) d;
            }
            List<String[]> fields = new ArrayList<>();
            fields.add(new String[] {"name", "\"" + spec.name() + "\""});
            fields.add(new String[] {"shape", shape(shape)});
            fields.add(new String[] {"datatype", "\"" + spec.datatype().oipName() + "\""});
            ByteBuffer bytes = ByteBuffer.allocate(count * spec.datatype().byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            List<String> elements = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                elements.add(element(spec.datatype(), bytes));
            }
            if (binaryBody && random.nextInt(4) != 0) {
                fields.add(new String[] {"parameters", "{\"binary_data_size\":" + bytes.capacity() + "}"});
                binary.add(bytes.array());
            } else {
                fields.add(new String[] {"data", nest(elements, shape)});
            }
            if (random.nextInt(4) == 0) {
                fields.add(new String[] {"extra" + random.nextInt(3), random.nextInt(4) == 0 ? "{\"s\":\"é\\u00e9\"}"
                        : "{\"deep\":[1,[2.5e3,{\"x\":null,\"y\":[true,false,\"s\"]}]],\"e\":{},\"a\":[]}"});
            }
            if (random.nextInt(5) == 0) {
                Collections.shuffle(fields, random);
            }
            return fields;
        }

        private static String shape(long[] shape) {
            StringBuilder sb = new StringBuilder("[");
            for (int d = 0; d < shape.length; d++) {
                sb.append(d > 0 ? "," : "").append(shape[d]);
            }
            return sb.append(']').toString();
        }

        /** A valid element, written as text in one of its forms and as little-endian bytes. */
        private String element(DataType type, ByteBuffer bytes) {
            switch (type) {
                case BOOL -> {
                    boolean b = random.nextBoolean();
                    bytes.put((byte) (b ? 1 : 0));
                    return Boolean.toString(b);
                }
                case FP32, FP64 -> {
                    if (random.nextInt(4) == 0) { // a decimal in any form the grammar allows, read as the tree parser reads it
                        String text = decimal();
                        double parsed = Double.parseDouble(text);
                        if (Double.isFinite(parsed) && Math.abs(parsed) <= Float.MAX_VALUE) {
                            if (type == DataType.FP32) {
                                bytes.putFloat((float) parsed);
                            } else {
                                bytes.putDouble(parsed);
                            }
                            return text;
                        }
                    }
                    double d = switch (random.nextInt(5)) {
                        case 0 -> random.nextInt(17) - 8;
                        case 1 -> random.nextGaussian() * Math.pow(10, random.nextInt(20) - 10);
                        case 2 -> random.nextFloat();
                        default -> random.nextInt(170) / 10.0;
                    };
                    if (type == DataType.FP32) {
                        bytes.putFloat((float) d);
                    } else {
                        bytes.putDouble(d);
                    }
                    return d == Math.rint(d) && random.nextBoolean() ? Long.toString((long) d) : Double.toString(d);
                }
                default -> {
                    long max = switch (type) {
                        case UINT8 -> 255;
                        case INT8 -> 127;
                        case INT16 -> 32767;
                        case INT32 -> Integer.MAX_VALUE;
                        default -> Long.MAX_VALUE;
                    };
                    long l = type == DataType.UINT8 ? random.nextInt(256) : random.nextInt(3) == 0 ? (random.nextBoolean() ? max : -max - 1)
                            : random.nextInt(200) - 100;
                    switch (type) {
                        case UINT8, INT8 -> bytes.put((byte) l);
                        case INT16 -> bytes.putShort((short) l);
                        case INT32 -> bytes.putInt((int) l);
                        default -> bytes.putLong(l);
                    }
                    return Math.abs(l) < 1000 && random.nextInt(5) == 0 ? l + ".0" : Long.toString(l);
                }
            }
        }

        /** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? with 1 to 20 digits each side and exponents up to 40. */
        private String decimal() {
            StringBuilder sb = new StringBuilder(random.nextBoolean() ? "-" : "");
            int whole = random.nextInt(4) == 0 ? 0 : 1 + random.nextInt(random.nextBoolean() ? 3 : 20);
            sb.append(whole == 0 ? "0" : Integer.toString(1 + random.nextInt(9)));
            for (int i = 1; i < whole; i++) {
                sb.append(random.nextInt(10));
            }
            if (whole == 0 || random.nextBoolean()) {
                sb.append('.');
                for (int i = 1 + random.nextInt(random.nextBoolean() ? 4 : 20); i > 0; i--) {
                    sb.append(random.nextInt(3) == 0 ? '0' : (char) ('0' + random.nextInt(10)));
                }
            }
            if (random.nextInt(3) == 0) {
                sb.append(random.nextBoolean() ? 'e' : 'E').append(random.nextInt(3) == 0 ? "" : random.nextBoolean() ? "-" : "+")
                        .append(random.nextInt(41));
            }
            return sb.toString();
        }

        /** Flat, or nested by the shape's rows. */
        private String nest(List<String> elements, long[] shape) {
            if (random.nextBoolean() || shape.length < 2) {
                return "[" + String.join(",", elements) + "]";
            }
            int row = (int) shape[shape.length - 1];
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < elements.size(); i += row) {
                sb.append(i > 0 ? "," : "").append('[').append(String.join(",", elements.subList(i, i + row))).append(']');
            }
            return sb.append(']').toString();
        }

        /** One to three kinds of damage, each a refusal or an odd but valid form. */
        void damage() {
            for (int k = 1 + random.nextInt(3); k > 0; k--) {
                List<String[]> input = inputs.isEmpty() ? new ArrayList<>() : inputs.get(random.nextInt(inputs.size()));
                switch (random.nextInt(23)) {
                    case 0 -> remove(input, pick("name", "shape", "datatype", "data", "parameters"));
                    case 1 -> input.add(input.isEmpty() ? new String[] {"name", "\"x\""} : input.get(random.nextInt(input.size())).clone()); // a field twice
                    case 2 -> set(input, "datatype", "\"" + TYPES.get(random.nextInt(TYPES.size())) + "\"");
                    case 3 -> set(input, "shape", pick("[]", "[1]", "[1,64,1]", "[0,64]", "[-1,64]", "[1.0,64]", "[1,2]",
                            "[9223372036854775807,2]", "[99999999999999999999,2]", "[1,\"64\"]", "\"1x64\"", "[6,2]", "[4000000000,4000000000]"));
                    case 4, 5, 6 -> dataElement(input);
                    case 7 -> set(input, "data", pick("[]", "[[]]", "null", "\"x\"", "{}", "[" + "[".repeat(17) + "1" + "]".repeat(17) + "]",
                            "[" + "[".repeat(16) + "1" + "]".repeat(16) + "]", "[true,false]"));
                    case 8 -> set(input, "name", pick("\"nope\"", "1", "null", "\"\"", "\"" + inputs.size() + "\""));
                    case 9 -> Collections.shuffle(input, random);
                    case 10 -> inputs.add(new ArrayList<>(input)); // the same input twice
                    case 11 -> inputs.remove(input);
                    case 12 -> set(root, "id", pick("1", "true", "{}", "[\"a\"]", "\"x\""));
                    case 13 -> set(root, "outputs", pick("null", "[]", "{}", "[{}]", "[{\"name\":\"nope\"}]", "[1]", "[{\"name\":1}]",
                            "[{\"name\":\"" + "probabilities" + "\",\"parameters\":{\"binary_data\":\"yes\"}}]",
                            "[{\"name\":\"scores\",\"parameters\":[]}]", "[{\"name\":\"total\",\"name\":\"total\"}]"));
                    case 14 -> set(root, "parameters", pick("{\"binary_data_output\":1}", "{\"binary_data_output\":\"true\"}",
                            "{\"label\":\"3\"}", "{\"label\":[\"3\"]}", "[]", "null", "{\"binary_data_output\":true,\"binary_data_output\":false}",
                            "{\"other\":{\"label\":1},\"binary_data_output\":true}"));
                    case 15 -> root.add(root.get(random.nextInt(root.size())).clone());
                    case 16 -> set(root, "inputs", pick("[]", "{}", "null", "[1]", "[[]]"));
                    case 17 -> tail = pick("", " ", "x", "}", " {}", "/* c */", "// c\n", ",");
                    case 18 -> set(input, "parameters", pick("{\"binary_data_size\":0}", "{\"binary_data_size\":256}",
                            "{\"binary_data_size\":\"256\"}", "{\"binary_data_size\":-4}", "{\"binary_data_size\":256.0}", "{}", "[]",
                            "{\"binary_data_size\":1,\"binary_data_size\":2}"));
                    case 19 -> binaryBody = !binaryBody;
                    case 21 -> root.add(new String[] {"n".repeat(random.nextBoolean() ? 50_001 : 999), // past Jackson's name limit, or not
                            "\"" + "s".repeat(random.nextInt(3) == 0 ? 20_000 : 10) + "\""});
                    case 20 -> {
                        if (!binary.isEmpty()) {
                            damageBinary();
                        }
                    }
                    default -> root.add(new String[] {"unexpected", pick("{\"a\":[1,2,{\"b\":null}]}", "\"\\u0000\"", "1e999",
                            "[" + "[".repeat(40) + "]".repeat(40) + "]", "/* comment */ 1")});
                }
            }
        }

        private void dataElement(List<String[]> input) {
            for (String[] field : input) {
                if (field[0].equals("data") && field[1] != null && field[1].startsWith("[")) {
                    String data = field[1];
                    int comma = data.indexOf(',', random.nextInt(Math.max(1, data.length())));
                    String odd = ODD.get(random.nextInt(ODD.size()));
                    field[1] = switch (random.nextInt(4)) {
                        case 0 -> data.substring(0, data.length() - 1) + "," + odd + "]"; // one more
                        case 1 -> comma < 0 ? "[" + odd + "]" : "[" + odd + "," + data.substring(1); // replaced... or one more
                        case 2 -> comma < 0 ? data : data.substring(0, comma) + "," + odd + data.substring(data.indexOf(',', comma + 1) < 0
                                ? data.length() - 1 : data.indexOf(',', comma + 1));
                        default -> "[" + data.substring(data.indexOf(',') < 0 ? 1 : data.indexOf(',') + 1); // one fewer
                    };
                    return;
                }
            }
        }

        private void damageBinary() {
            int i = random.nextInt(binary.size());
            byte[] b = binary.get(i);
            switch (random.nextInt(4)) {
                case 0 -> binary.set(i, java.util.Arrays.copyOf(b, Math.max(0, b.length - 1 - random.nextInt(4))));
                case 1 -> binary.set(i, java.util.Arrays.copyOf(b, b.length + 1 + random.nextInt(4)));
                case 2 -> {
                    if (b.length >= 4) {
                        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(random.nextInt(b.length / 4) * 4,
                                random.nextBoolean() ? Float.NaN : Float.POSITIVE_INFINITY);
                    }
                }
                default -> {
                    if (b.length > 0) {
                        b[random.nextInt(b.length)] = (byte) (2 + random.nextInt(200));
                    }
                }
            }
        }

        private String pick(String... options) {
            return options[random.nextInt(options.length)];
        }

        private static void remove(List<String[]> fields, String name) {
            fields.removeIf(f -> f[0].equals(name));
        }

        private static void set(List<String[]> fields, String name, String value) {
            for (String[] f : fields) {
                if (f[0].equals(name)) {
                    f[1] = value;
                    return;
                }
            }
            fields.add(new String[] {name, value});
        }

        Body render() {
            StringBuilder sb = new StringBuilder();
            object(sb, root);
            sb.append(tail);
            String json = sb.toString();
            if (!binaryBody) {
                return new Body(json, null);
            }
            Buffer bytes = Buffer.buffer();
            binary.forEach(bytes::appendBytes);
            return new Body(json, bytes);
        }

        private void object(StringBuilder sb, List<String[]> fields) {
            sb.append('{');
            boolean first = true;
            for (String[] f : fields) {
                sb.append(first ? "" : ",").append(space()).append('"').append(f[0]).append('"').append(space()).append(':')
                        .append(space());
                first = false;
                if (f[0].equals("inputs") && f[1] == null) {
                    sb.append('[');
                    for (int i = 0; i < inputs.size(); i++) {
                        sb.append(i > 0 ? "," : "");
                        object(sb, inputs.get(i));
                    }
                    sb.append(']');
                } else {
                    sb.append(Objects.requireNonNullElse(f[1], "null"));
                }
            }
            sb.append(space()).append('}');
        }

        private String space() {
            return random.nextInt(6) == 0 ? " \n\t".substring(random.nextInt(3)) : "";
        }
    }
}
