package com.modelmarket.serving.training;

/**
 * Bounds on an uploaded CSV.
 *
 * @param maxBytes bytes read before the file is refused as too large
 * @param maxColumns columns in the header, the label included
 * @param minRowsPerClass rows each label class needs: one for the held-out split, one for the
 *     validation split and at least one to train on
 */
public record CsvLimits(long maxBytes, int maxColumns, int minRowsPerClass) {

    public static final CsvLimits DEFAULT = new CsvLimits(64L << 20, 1024, 3);

    public CsvLimits {
        if (maxBytes < 1 || maxColumns < 2 || minRowsPerClass < 1) {
            throw new IllegalArgumentException("bad CSV limits");
        }
    }
}
