package com.modelmarket.marketplace.auth;

import com.modelmarket.marketplace.config.AppConfig;
import com.modelmarket.marketplace.util.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

/**
 * The server's secrets: the ES256 key pair that signs access tokens and the key of the API-key
 * HMAC. Taken from configuration when given, else generated at first start and kept (owner-only)
 * in {@code <data>/keys}. Blocking file IO: call from a worker thread.
 */
public record KeyMaterial(String jwtPrivatePem, String jwtPublicPem, byte[] apiKeyHmacKey) {

    public static KeyMaterial loadOrCreate(AppConfig config) throws IOException {
        PrivateFiles.directory(config.dataDir());
        Path dir = PrivateFiles.directory(config.dataDir().resolve("keys"));
        String privatePem;
        String publicPem;
        if (config.jwtPrivateKeyFile().isPresent() != config.jwtPublicKeyFile().isPresent()) {
            throw new IllegalArgumentException("jwt.private-key-file and jwt.public-key-file go together");
        }
        if (config.jwtPrivateKeyFile().isPresent()) {
            privatePem = Files.readString(config.jwtPrivateKeyFile().get());
            publicPem = Files.readString(config.jwtPublicKeyFile().get());
        } else {
            Path priv = dir.resolve("jwt-es256-private.pem");
            Path pub = dir.resolve("jwt-es256-public.pem");
            if (!Files.exists(priv) || !Files.exists(pub)) {
                KeyPair pair = generateEs256();
                writeOwnerOnly(pub, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
                writeOwnerOnly(priv, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            }
            PrivateFiles.tightenFile(priv);
            privatePem = Files.readString(priv);
            publicPem = Files.readString(pub);
        }
        byte[] hmacKey;
        if (config.apiKeySecret().isPresent()) {
            hmacKey = Base64.getDecoder().decode(config.apiKeySecret().get());
        } else {
            Path file = dir.resolve("api-key-hmac.key");
            if (!Files.exists(file)) {
                writeOwnerOnly(file, Base64.getEncoder().encodeToString(Secrets.randomBytes(32)));
            }
            PrivateFiles.tightenFile(file);
            hmacKey = Base64.getDecoder().decode(Files.readString(file).trim());
        }
        if (hmacKey.length < 32) {
            throw new IllegalArgumentException("apikey.secret must hold at least 32 bytes (base64)");
        }
        return new KeyMaterial(privatePem, publicPem, hmacKey);
    }

    static KeyPair generateEs256() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot generate an ES256 key pair", e);
        }
    }

    static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    private static void writeOwnerOnly(Path file, String content) throws IOException {
        PrivateFiles.write(file, content);
    }
}
