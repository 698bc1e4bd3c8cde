package com.modelmarket.serving.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.modelmarket.serving.training.DatasetRefusedException.Reason;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class CsvDatasetTest {

    private static CsvDataset parse(String csv, String label, TrainingTask task, CsvLimits limits)
            throws IOException {
        return CsvDataset.parse(new ByteArrayInputStream(csv.getBytes(StandardCharsets.UTF_8)), label,
                task, limits);
    }

    private static DatasetRefusedException refusedFile(String name, CsvLimits limits) {
        return assertThrows(DatasetRefusedException.class, () -> {
            try (InputStream in = Files.newInputStream(TrainingFixtures.csv(name))) {
                CsvDataset.parse(in, "label", TrainingTask.CLASSIFICATION, limits);
            }
        });
    }

    private static void assertRefusal(DatasetRefusedException e, Reason reason, long row, String column) {
        System.out.println(e.getMessage());
        assertEquals(reason, e.reason(), e.getMessage());
        assertEquals(row, e.row(), e.getMessage());
        assertEquals(column, e.column(), e.getMessage());
        if (row > 0) {
            assertTrue(e.getMessage().contains("row " + row), e.getMessage());
        }
        if (column != null) {
            assertTrue(e.getMessage().contains("'" + column + "'"), e.getMessage());
        }
    }

    @Test
    @DisplayName("wine parses into 178 rows, 13 features, three sorted classes and column statistics")
    void wine() {
        CsvDataset wine = TrainingFixtures.wine();
        assertEquals(178, wine.rowCount());
        assertEquals(13, wine.featureCount());
        assertEquals(List.of("class_0", "class_1", "class_2"), wine.classes());
        assertArrayEquals(new long[] {59, 71, 48}, wine.classCounts());
        ColumnStats alcohol = wine.columnStats().get(0);
        assertEquals("alcohol", alcohol.name());
        assertEquals(11.03, alcohol.min(), 1e-5);
        assertEquals(14.83, alcohol.max(), 1e-5);
        assertEquals(13.0006, alcohol.mean(), 1e-3);
        assertEquals(0, alcohol.missing());
        assertEquals(2, wine.classIndex(177));
    }

    @Test
    @DisplayName("diabetes parses as a regression with a real-valued target")
    void diabetes() {
        CsvDataset d = TrainingFixtures.diabetes();
        assertEquals(442, d.rowCount());
        assertEquals(10, d.featureCount());
        assertEquals(151.0, d.target(0));
        assertTrue(d.classes().isEmpty());
    }

    @Test
    @DisplayName("empty cells are missing values: counted per column, not refused")
    void missingCells() {
        CsvDataset d = TrainingFixtures.dataset("wine_missing_cells", "label", TrainingTask.CLASSIFICATION);
        assertEquals(2, d.columnStats().get(0).missing());
        assertEquals(1, d.columnStats().get(3).missing());
        assertTrue(Float.isNaN(d.row(0)[0]));
    }

    @Test
    @DisplayName("every hostile fixture is refused naming its row and column")
    void hostileFixtures() {
        CsvLimits limits = CsvLimits.DEFAULT;
        assertRefusal(refusedFile("bad_column_count", limits), Reason.WRONG_COLUMN_COUNT, 3, "label");
        assertRefusal(refusedFile("bad_non_numeric", limits), Reason.NOT_A_NUMBER, 4, "magnesium");
        assertRefusal(refusedFile("bad_nan", limits), Reason.NOT_FINITE, 2, "alcohol");
        assertRefusal(refusedFile("bad_inf", limits), Reason.NOT_FINITE, 5, "proline");
        assertRefusal(refusedFile("bad_empty", limits), Reason.EMPTY, 0, null);
        assertRefusal(refusedFile("bad_header_only", limits), Reason.EMPTY, 0, null);
        assertRefusal(refusedFile("bad_too_many_columns", limits), Reason.TOO_MANY_COLUMNS, 0, null);
        assertRefusal(refusedFile("bad_rare_class", limits), Reason.TOO_FEW_ROWS, 0, "label");
        assertTrue(refusedFile("bad_rare_class", limits).getMessage().contains("class_rare"));
        assertEquals(1, refusedFile("bad_too_many_columns", limits).line());
    }

    @Test
    @DisplayName("a held-out file with a label the model never saw is refused naming row and column")
    void unknownLabelInHeldOutFile() throws IOException {
        CsvDataset wine = TrainingFixtures.wine();
        try (InputStream in = Files.newInputStream(TrainingFixtures.csv("wine_unknown_label"))) {
            DatasetRefusedException e = assertThrows(DatasetRefusedException.class,
                    () -> CsvDataset.parseFor(in, "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT,
                            wine.featureNames(), wine.classes()));
            assertRefusal(e, Reason.UNKNOWN_LABEL, 8, "label");
            assertTrue(e.getMessage().contains("class_9"));
        }
    }

    @Test
    @DisplayName("an unknown label column, a duplicate column, a missing label and the size cap are refused")
    void otherRefusals() {
        DatasetRefusedException e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,b\n1,x\n", "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT));
        assertRefusal(e, Reason.UNKNOWN_LABEL_COLUMN, 0, "label");
        assertEquals(1, e.line());
        e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,a,label\n1,2,x\n", "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT));
        assertRefusal(e, Reason.DUPLICATE_COLUMN, 0, "a");
        e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,target\n1,2\n3,\n", "target", TrainingTask.REGRESSION, CsvLimits.DEFAULT));
        assertRefusal(e, Reason.MISSING_LABEL, 2, "target");
        e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,target\n1,2\n3,zz\n", "target", TrainingTask.REGRESSION, CsvLimits.DEFAULT));
        assertRefusal(e, Reason.NOT_A_NUMBER, 2, "target");
        e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,target\n1,2\n3,4\n", "target", TrainingTask.REGRESSION, new CsvLimits(10, 10, 1)));
        assertEquals(Reason.TOO_LARGE, e.reason());
        e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,b,label\n1,0x1p3,x\n", "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT));
        assertRefusal(e, Reason.NOT_A_NUMBER, 1, "b");
        e = assertThrows(DatasetRefusedException.class,
                () -> parse("a,b,label\n1,1e39,x\n", "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT));
        assertRefusal(e, Reason.NOT_FINITE, 1, "b");
    }

    @Test
    @DisplayName("quoted fields, CRLF line ends, a BOM and blank lines parse")
    void rfc4180() throws IOException {
        String csv = "\uFEFF\"size, cm\",\"label\"\r\n1.5,\"a \"\"big\"\" one\"\r\n\r\n2,b\r\n3,b\r\n4,a\r\n5,a\r\n6,b\r\n";
        CsvDataset d = parse(csv, "label", TrainingTask.CLASSIFICATION, new CsvLimits(1 << 20, 10, 1));
        assertEquals(List.of("size, cm"), d.featureNames());
        assertEquals(List.of("a", "a \"big\" one", "b"), d.classes()); // sorted
        assertEquals(6, d.rowCount());
        // the refusal after a blank line names the right file line
        DatasetRefusedException e = assertThrows(DatasetRefusedException.class,
                () -> parse("x,label\n1,a\n\n2\n", "label", TrainingTask.CLASSIFICATION, CsvLimits.DEFAULT));
        assertEquals(4, e.line());
    }

    @Test
    @DisplayName("seeded random tables parse back to the values written, and one corrupted cell is found")
    void randomTables() throws IOException {
        long seed = System.nanoTime();
        System.out.println("randomTables seed " + seed);
        Random random = new Random(seed);
        for (int round = 0; round < 50; round++) {
            int cols = 1 + random.nextInt(8);
            int rows = 6 + random.nextInt(40);
            StringBuilder sb = new StringBuilder();
            for (int c = 0; c < cols; c++) {
                sb.append("f").append(c).append(',');
            }
            sb.append("y\n");
            List<float[]> written = new ArrayList<>();
            for (int r = 0; r < rows; r++) {
                float[] row = new float[cols];
                for (int c = 0; c < cols; c++) {
                    row[c] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(6) - 3));
                    sb.append(row[c]).append(',');
                }
                sb.append(random.nextDouble()).append('\n');
                written.add(row);
            }
            String csv = sb.toString();
            CsvDataset d = parse(csv, "y", TrainingTask.REGRESSION, CsvLimits.DEFAULT);
            assertEquals(rows, d.rowCount(), "seed " + seed);
            for (int r = 0; r < rows; r++) {
                assertArrayEquals(written.get(r), d.row(r), "seed " + seed + " row " + r);
            }
            String[] lines = csv.split("\n");
            int badRow = 1 + random.nextInt(rows);
            int badCol = random.nextInt(cols);
            String[] cells = lines[badRow].split(",");
            cells[badCol] = "oops";
            lines[badRow] = String.join(",", cells);
            DatasetRefusedException e = assertThrows(DatasetRefusedException.class,
                    () -> parse(String.join("\n", lines) + "\n", "y", TrainingTask.REGRESSION, CsvLimits.DEFAULT));
            assertEquals(badRow, e.row(), "seed " + seed);
            assertEquals("f" + badCol, e.column(), "seed " + seed);
        }
    }
}
