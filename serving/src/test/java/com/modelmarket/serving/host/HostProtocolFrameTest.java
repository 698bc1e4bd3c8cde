package com.modelmarket.serving.host;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.modelmarket.serving.model.DataType;
import com.modelmarket.serving.model.Tensor;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The frame writer, which now writes the header in place and the tensors' bytes without cloning
 * them, against the frames as it wrote them before (body first, then copied behind a header):
 * byte for byte over seeded random RUN frames, and read back to the same tensors.
 */
class HostProtocolFrameTest {

    @Test
    @DisplayName("frames are byte-identical to the former writer's and read back to the same tensors, for 500 seeded frames")
    void sameFramesAsBefore() throws IOException {
        long seed = Long.getLong("mm.test.seed", System.nanoTime());
        System.out.println("HostProtocolFrameTest seed " + seed + " (-Dmm.test.seed to repeat)");
        Random random = new Random(seed);
        for (int n = 0; n < 500; n++) {
            long id = random.nextLong();
            String handle = "model-" + random.nextInt(100) + (random.nextBoolean() ? "-ünï" : "");
            List<Tensor> tensors = new ArrayList<>();
            int count = random.nextInt(4);
            for (int i = 0; i < count; i++) {
                DataType type = DataType.values()[random.nextInt(DataType.values().length)];
                long[] shape = new long[1 + random.nextInt(3)];
                int elements = 1;
                for (int d = 0; d < shape.length; d++) {
                    // now and then one long first dimension; never a frame over the reader's 16 MiB limit
                    shape[d] = random.nextInt(d == 0 && random.nextInt(10) == 0 ? 300 : 6);
                    elements *= (int) shape[d];
                }
                byte[] bytes = new byte[elements * type.byteSize()];
                random.nextBytes(bytes);
                tensors.add(Tensor.of("t" + i, type, shape, bytes));
            }
            long nanos = random.nextLong();

            byte[] frame = new HostProtocol.Writer(HostProtocol.RUN, id).string(handle).tensors(tensors).i64(nanos).frame();
            assertArrayEquals(formerFrame(HostProtocol.RUN, id, handle, tensors, nanos), frame, "seed " + seed + " frame " + n);

            HostProtocol.Frame read = HostProtocol.read(new ByteArrayInputStream(frame), 1 << 24);
            assertEquals(HostProtocol.RUN, read.type());
            assertEquals(id, read.id());
            HostProtocol.Reader r = read.reader();
            assertEquals(handle, r.string());
            List<Tensor> back = r.tensors();
            assertEquals(tensors.size(), back.size());
            for (int i = 0; i < tensors.size(); i++) {
                assertEquals(tensors.get(i).name(), back.get(i).name());
                assertEquals(tensors.get(i).datatype(), back.get(i).datatype());
                assertArrayEquals(tensors.get(i).shape(), back.get(i).shape());
                assertArrayEquals(tensors.get(i).toByteArray(), back.get(i).toByteArray());
            }
            assertEquals(nanos, r.i64());
        }
    }

    /** How {@link HostProtocol.Writer} built this frame before: the body, then a copy of it behind the header. */
    private static byte[] formerFrame(byte type, long id, String handle, List<Tensor> tensors, long nanos) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        DataOutputStream out = new DataOutputStream(bytes);
        byte[] h = handle.getBytes(StandardCharsets.UTF_8);
        out.writeInt(h.length);
        out.write(h);
        out.writeInt(tensors.size());
        for (Tensor t : tensors) {
            byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
            out.writeInt(name.length);
            out.write(name);
            out.writeInt(t.datatype().ordinal());
            out.writeInt(t.rank());
            for (long d : t.shape()) {
                out.writeLong(d);
            }
            byte[] data = t.toByteArray();
            out.writeInt(data.length);
            out.write(data);
        }
        out.writeLong(nanos);
        byte[] body = bytes.toByteArray();
        byte[] frame = new byte[13 + body.length];
        int length = 9 + body.length;
        frame[0] = (byte) (length >>> 24);
        frame[1] = (byte) (length >>> 16);
        frame[2] = (byte) (length >>> 8);
        frame[3] = (byte) length;
        frame[4] = type;
        for (int i = 0; i < 8; i++) {
            frame[5 + i] = (byte) (id >>> (56 - 8 * i));
        }
        System.arraycopy(body, 0, frame, 13, body.length);
        return frame;
    }
}
