package com.modelmarket.marketplace.tenants;

/** A member's role in a tenant, strongest first. */
public enum Role {
    OWNER, ADMIN, PUBLISHER, MEMBER;

    /** Owners and admins manage members and API keys. */
    public boolean canManageTenant() {
        return this == OWNER || this == ADMIN;
    }

    /** Owners, admins and publishers put models on the market. */
    public boolean canPublish() {
        return this == OWNER || this == ADMIN || this == PUBLISHER;
    }

    public String dbName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    public static Role fromDb(String name) {
        return valueOf(name.toUpperCase(java.util.Locale.ROOT));
    }
}
