/// How a provider words its errors (and a few protocol quirks).
public enum OAuthProviderStyle: String, Sendable, CaseIterable {
    /// Microsoft Entra ID (Microsoft 365): `AADSTSnnnn` codes in `error_description`; the refresh grant must repeat
    /// `scope`; client credentials go in the body.
    case microsoft
    /// Google: short descriptions, `verification_url` in the device flow, client credentials in the body.
    case google
    /// Any other RFC 6749 server: a confidential client authenticates with HTTP Basic (RFC 6749 §2.3.1).
    case custom
}
