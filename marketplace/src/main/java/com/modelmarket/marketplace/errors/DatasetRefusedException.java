package com.modelmarket.marketplace.errors;

/** A CSV that cannot be a dataset: the reason, and where (line of the file, data row, column) when known. */
public final class DatasetRefusedException extends DomainException {

    private final String reason;
    private final long line;
    private final long row;
    private final String column;

    public DatasetRefusedException(String reason, long line, long row, String column, String detail) {
        super(detail);
        this.reason = reason;
        this.line = line;
        this.row = row;
        this.column = column;
    }

    /** A stable, lower-case reason ({@code wrong-column-count}, {@code non-numeric}, …). */
    public String reason() {
        return reason;
    }

    /** The line of the file (1 is the header), or 0 when the refusal is about the whole file. */
    public long line() {
        return line;
    }

    /** The data row (1 is the first row after the header), or 0. */
    public long row() {
        return row;
    }

    /** The column's name, or null. */
    public String column() {
        return column;
    }
}
