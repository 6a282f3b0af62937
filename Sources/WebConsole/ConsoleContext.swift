import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The request context of the console: the peer's address, for the sign-in limit.
public struct ConsoleContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Forms are small; a reply is the largest.
    public var maxUploadSize: Int { 1 << 20 }
}

/// How the console is reached: directly, or behind a reverse proxy whose `X-Forwarded-*` headers are trusted.
public struct ConsoleNetwork: Sendable, Equatable {
    /// The console is served over HTTPS (its own TLS): cookies are `Secure`.
    public var https: Bool
    /// `X-Forwarded-For` and `X-Forwarded-Proto` are believed when the peer is a loopback address (nginx on the
    /// same machine, as deploy/README.md shows); from anyone else they are ignored.
    public var trustLoopbackProxy: Bool

    public init(https: Bool = false, trustLoopbackProxy: Bool = false) {
        self.https = https
        self.trustLoopbackProxy = trustLoopbackProxy
    }

    func fromTrustedProxy(_ context: ConsoleContext) -> Bool {
        guard trustLoopbackProxy, let ip = context.remoteAddress?.ipAddress else { return false }
        return ip == "127.0.0.1" || ip == "::1" || ip.hasPrefix("127.")
    }

    /// Whether the browser reached us over HTTPS (ours, or the trusted proxy's).
    func isSecure(_ request: Request, _ context: ConsoleContext) -> Bool {
        if https { return true }
        guard fromTrustedProxy(context), let proto = request.headers[.xForwardedProto] else { return false }
        return proto.split(separator: ",").first?.trimmingCharacters(in: .whitespaces).lowercased() == "https"
    }

    /// The client's address: the peer's, or the first hop a trusted proxy names.
    func client(_ request: Request, _ context: ConsoleContext) -> String {
        if fromTrustedProxy(context), let forwarded = request.headers[.xForwardedFor],
            let first = forwarded.split(separator: ",").first
        {
            return String(first.trimmingCharacters(in: .whitespaces).prefix(64))
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }
}

extension HTTPField.Name {
    static var xForwardedFor: Self { Self("X-Forwarded-For") ?? .via }
    static var xForwardedProto: Self { Self("X-Forwarded-Proto") ?? .via }
    static var xFrameOptions: Self { Self("X-Frame-Options") ?? .via }
    static var referrerPolicy: Self { Self("Referrer-Policy") ?? .via }
}

/// The headers every console answer carries: no inline script or style, no framing, no sniffing, no referrer to
/// other sites (customer mail is hostile; these are the second line behind escaping).
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var policy: String {
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
            + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.referrerPolicy] = "same-origin"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
