-- Signing keys of three algorithms: EdDSA (access tokens, and ID tokens on request), RS256
-- (ID tokens by default) and ES256. The keys made before this step are Ed25519. What
-- `public_key` holds depends on the algorithm: the 32 bytes of an Ed25519 key, the
-- uncompressed SEC1 point of a P-256 key (0x04 || x || y), the DER RSAPublicKey of an RSA
-- key (RFC 8017 A.1.1); each is what ring verifies with, and the JWKS derives its fields
-- from it.
ALTER TABLE signing_keys ADD COLUMN alg TEXT NOT NULL DEFAULT 'EdDSA' CHECK (alg IN ('EdDSA', 'ES256', 'RS256'));
