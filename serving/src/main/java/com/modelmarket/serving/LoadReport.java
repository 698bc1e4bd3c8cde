package com.modelmarket.serving;

import java.time.Duration;

/**
 * What loading a model version found: its artifact, how long the checks and load took (including
 * the example run that warms it up), the memory charged to the budget, and the device.
 */
public record LoadReport(
        ModelKey key, String sha256, long sizeBytes, Duration loadTime, long memoryBytes,
        String device) {}
