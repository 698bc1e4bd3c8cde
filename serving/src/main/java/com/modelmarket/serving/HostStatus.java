package com.modelmarket.serving;

/**
 * One running model host: whose code it runs, its process (the sandbox's outer process), its
 * resident memory (every process of the sandbox) and how many model versions it holds.
 */
public record HostStatus(String owner, String name, long pid, long residentBytes, int models) {}
