import Crypto
import Foundation
import OAuthTestServer

/// Runs `body` with a fresh server that has a public Microsoft-style client, a confidential Google-style client and
/// a public Google-style client registered; stops the server afterwards, also when `body` throws.
func withOAuthServer<R>(
    _ configuration: OAuthTestServerConfiguration = .init(), _ body: (OAuthTestServer) async throws -> R
) async throws -> R {
    try await OAuthTestServer.with(
        configuration,
        registering: [
            OAuthClientRegistration(id: "desk-ms", style: .microsoft, scopes: msScopes),
            OAuthClientRegistration(
                id: "desk-google", secret: "g-secret", style: .google, scopes: ["https://mail.google.com/"]),
            OAuthClientRegistration(id: "desk-google-tv", style: .google, scopes: ["https://mail.google.com/"]),
        ], body)
}

let msScopes = [
    "https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access",
]

/// A PKCE verifier (RFC 7636 §4.1) and its S256 challenge (§4.2), computed here independently of the server.
func pkcePair() -> (verifier: String, challenge: String) {
    let verifier = (0..<64).map { _ in
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~".randomElement() ?? "a"
    }
    let text = String(verifier)
    let digest = Data(SHA256.hash(data: Data(text.utf8))).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
    return (text, digest)
}

/// A device code for `clientID`, from the device authorization endpoint.
func startDeviceFlow(_ server: OAuthTestServer, clientID: String, secret: String? = nil) async throws
    -> OAuthHTTPAnswer
{
    var form = [("client_id", clientID)]
    if let secret { form.append(("client_secret", secret)) }
    return try await OAuthHTTP.post(server.deviceAuthorizationURL, form)
}

/// One poll of the token endpoint with a device code (RFC 8628 §3.4).
func pollDeviceCode(_ server: OAuthTestServer, _ deviceCode: String, clientID: String = "desk-ms") async throws
    -> OAuthHTTPAnswer
{
    try await OAuthHTTP.post(
        server.tokenURL,
        [
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode),
            ("client_id", clientID),
        ])
}

/// A refresh_token grant (RFC 6749 §6) for a public client.
func refresh(_ server: OAuthTestServer, _ refreshToken: String, clientID: String = "desk-ms") async throws
    -> OAuthHTTPAnswer
{
    try await OAuthHTTP.post(
        server.tokenURL, [("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientID)])
}

/// An introspection request as Dovecot makes it (RFC 7662 §2.1), with the default resource credentials.
func introspect(_ server: OAuthTestServer, _ token: String) async throws -> OAuthHTTPAnswer {
    try await OAuthHTTP.post(
        server.introspectionURL, [("token", token)], basic: ("dovecot", "dovecot-introspection-secret"))
}
