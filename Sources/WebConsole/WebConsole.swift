// WebConsole owns the agents' web console: sign-in and sessions, the queue and request pages rendered on the
// server from mustache templates, and the forms that reply, add notes and update requests. It reads and writes
// through the store (ServiceDesk) and rings the notifier (EmailChannel); it knows no mail protocol.

import EmailChannel
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceDesk
import ServiceLifecycle

/// Builds the console: its router, and the HTTP service `postdesk serve --http-listen` runs.
public enum WebConsole {
    /// The console's routes, with the security headers and the error pages. `admin`: the running server's parts
    /// the admin pages use (channel states, the supervisor, the router); without it they show what the store knows.
    public static func router(
        store: DeskStore, notifier: Notifier?, network: ConsoleNetwork, admin: ConsoleAdminServices? = nil,
        logger: Logger
    ) throws -> Router<ConsoleContext> {
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        router.add(middleware: ConsoleErrorMiddleware(logger: logger))
        ConsoleRoutes(
            store: store, notifier: notifier, sessions: ConsoleSessions(store: store, network: network),
            throttle: LoginThrottle(), library: try ConsoleTemplates.library(), logger: logger,
            admin: admin ?? ConsoleAdminServices(), runs: ConsoleRuns()
        ).register(on: router)
        return router
    }

    /// HTTP, or with a PEM certificate chain and key, HTTPS.
    public static func serverBuilder(tls: (certificate: String, key: String)?) throws -> HTTPServerBuilder {
        guard let tls else { return .http1() }
        let certificates = try NIOSSLCertificate.fromPEMFile(tls.certificate).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = try NIOSSLPrivateKey(file: tls.key, format: .pem)
        return try .tls(
            .http1(),
            tlsConfiguration: TLSConfiguration.makeServerConfiguration(
                certificateChain: certificates, privateKey: .privateKey(key)))
    }
}

/// Turns a failure into a page: the store's refusals get their status and their line (escaped), anything else a
/// 500 that says nothing of the cause (it is logged).
struct ConsoleErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as DeskError {
            return Self.page(error.status, error.message)
        } catch let error as HTTPResponseError {
            return Self.page(error.status, error.status.reasonPhrase)
        } catch {
            logger.error("console request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Self.page(.internalServerError, "Something went wrong; the server's log says what.")
        }
    }

    static func page(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let escaped = message.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        var response = Response(
            status: status,
            body: .init(
                byteBuffer: ByteBuffer(
                    string: "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>\(status.code)</title>"
                        + "<link rel=\"stylesheet\" href=\"/static/console.css\"></head><body><main><h1>\(status.code)</h1>"
                        + "<p class=\"error\">\(escaped)</p><p><a href=\"/\">postdesk</a></p></main></body></html>")))
        response.headers[.contentType] = "text/html; charset=utf-8"
        return response
    }
}
