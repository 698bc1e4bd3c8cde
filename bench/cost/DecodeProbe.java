import com.modelmarket.marketplace.inference.InferenceEnvelope;
import com.modelmarket.marketplace.inference.InferenceJson;
import com.modelmarket.marketplace.inference.TensorCodec;
import com.modelmarket.serving.model.ModelManifest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Exact bytes allocated per request decode (docs/benchmarks.md, "Per-request cost after trimming",
 * issue 20): the light model's one-item request as bench/sandbox/bodies.py writes it, decoded by
 * the tree path (InferenceJson.parse + TensorCodec.decode(JsonObject)) and by the one-pass path
 * (InferenceEnvelope.read + TensorCodec.decode(InferenceEnvelope)), as JSON and as a binary
 * header with its tensor bytes. Measured with ThreadMXBean.getThreadAllocatedBytes over warm calls.
 *
 *   java -cp "marketplace/target/modelmarket.jar:marketplace/target/lib/*" bench/cost/DecodeProbe.java [MANIFEST]
 */
public class DecodeProbe {

    private static final int CALLS = 200_000;

    public static void main(String[] args) throws Exception {
        JsonObject manifestJson = new JsonObject(Files.readString(Path.of(args.length > 0 ? args[0] : "serving/fixtures/digits_mlp.json")));
        ModelManifest manifest = ModelManifest.fromJson(manifestJson);
        JsonObject first = manifestJson.getJsonObject("example").getJsonArray("inputs").getJsonObject(0);
        JsonArray data = new JsonArray(first.getJsonArray("data").getList().subList(0, 64));
        String name = first.getString("name");
        Buffer json = Buffer.buffer("{\"inputs\": [{\"name\": \"" + name + "\", \"datatype\": \"FP32\", \"shape\": [1, 64], \"data\": "
                + data.encode().replace(",", ", ") + "}]}");
        Buffer header = Buffer.buffer("{\"inputs\": [{\"name\": \"" + name + "\", \"datatype\": \"FP32\", \"shape\": [1, 64], "
                + "\"parameters\": {\"binary_data_size\": 256}}], \"outputs\": [{\"name\": \"" + manifest.outputs().get(0).name()
                + "\", \"parameters\": {\"binary_data\": true}}]}");
        ByteBuffer floats = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 64; i++) {
            floats.putFloat(data.getNumber(i).floatValue());
        }
        Buffer binary = Buffer.buffer(floats.array());
        TensorCodec.Limits limits = new TensorCodec.Limits(1024, 1 << 20);

        report("JSON, tree path", () -> TensorCodec.decode((JsonObject) InferenceJson.parse(json), null, manifest, limits));
        report("JSON, one pass", () -> TensorCodec.decode(InferenceEnvelope.read(json), null, manifest, limits));
        report("binary, tree path", () -> TensorCodec.decode((JsonObject) InferenceJson.parse(header), binary, manifest, limits));
        report("binary, one pass", () -> TensorCodec.decode(InferenceEnvelope.read(header), binary, manifest, limits));
    }

    private static void report(String label, java.util.function.Supplier<Object> call) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long id = Thread.currentThread().getId();
        Object sink = null;
        for (int round = 0; round < 3; round++) {
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < CALLS; i++) {
                sink = call.get();
            }
            long after = threads.getThreadAllocatedBytes(id);
            if (round == 2) {
                System.out.printf("%-20s %,8d B per call%n", label, (after - before) / CALLS);
            }
        }
        if (sink == null) {
            throw new IllegalStateException();
        }
    }
}
