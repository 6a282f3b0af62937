import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL

/// The process's HTTP clients for OAuth endpoints: one that trusts the system's roots and one per private CA file,
/// each made on first use and kept (never shut down), so that connections are pooled and no call makes a client.
///
/// Not `HTTPClient.shared`: it follows redirects and keeps a POST body on 307/308, which would send the client
/// secret or a refresh token wherever a token endpoint redirects, even to plain http. These clients never follow.
final class OAuthHTTPClients: @unchecked Sendable {
    /// The one registry of the process.
    static let shared = OAuthHTTPClients()

    // Guards `clients`.
    private let lock = NSLock()
    /// By CA file path; "" is the system's roots.
    private var clients: [String: HTTPClient] = [:]

    /// The client for `caFile` (nil: the system's roots), made once.
    func client(caFile: String?) throws(OAuthError) -> HTTPClient {
        let key = caFile ?? ""
        let result: Result<HTTPClient, OAuthError> = lock.withLock {
            if let client = clients[key] { return .success(client) }
            var tls = TLSConfiguration.makeClientConfiguration()
            if let caFile {
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                } catch {
                    return .failure(
                        .refused(
                            "cannot read the CA file \(caFile): \(error)",
                            fix: "give a readable PEM file with the private CA's certificate"))
                }
                guard !certificates.isEmpty else {
                    return .failure(
                        .refused("the CA file \(caFile) has no PEM certificate", fix: "give the CA's PEM certificate"))
                }
                tls.trustRoots = .certificates(certificates)
            }
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls, redirectConfiguration: .disallow,
                timeout: .init(connect: .seconds(15), read: .seconds(60)), decompression: .disabled)
            // A refused or failed connection fails the call at once with its real cause, instead of being retried
            // in the pool until the deadline and reported as a timeout; callers have their own backoff.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            clients[key] = client
            return .success(client)
        }
        return try result.get()
    }
}
