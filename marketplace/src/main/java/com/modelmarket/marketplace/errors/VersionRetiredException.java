package com.modelmarket.marketplace.errors;

/** A model version that was retired: it exists, and no longer serves. */
public final class VersionRetiredException extends DomainException {

    private final String model;
    private final String version;

    public VersionRetiredException(String model, String version) {
        super("Version " + version + " of " + model + " is retired and no longer serves");
        this.model = model;
        this.version = version;
    }

    public String model() {
        return model;
    }

    public String version() {
        return version;
    }
}
