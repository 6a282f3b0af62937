import EmailChannel
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceDesk
import ServiceLifecycle
import WebConsole

/// The context of `serve --http-listen`: it keeps the connection's source, so that each half of the listener makes
/// its own context from it.
struct HTTPListenerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    private let channel: any NIOCore.Channel

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The connection's source again, for the context of the half that answers.
    var source: ApplicationRequestContextSource { .init(channel: channel, logger: logger) }
}

/// One port, two parts: `/v1/…` is the HTTP API for integrations (the admin socket's routes, authorized by API
/// tokens), everything else the agents' console.
struct HTTPListenerResponder: HTTPResponder {
    typealias Context = HTTPListenerContext
    let console: RouterResponder<ConsoleContext>
    let api: RouterResponder<AdminRequestContext>

    func respond(to request: Request, context: HTTPListenerContext) async throws -> Response {
        let path = request.uri.path
        if path == "/v1" || path.hasPrefix("/v1/") {
            return try await api.respond(to: request, context: AdminRequestContext(source: context.source))
        }
        return try await console.respond(to: request, context: ConsoleContext(source: context.source))
    }
}

extension ConsoleListen {
    /// The listener's service: the console (its admin pages with the running parts `routes` holds), and the API
    /// routes of `routes` behind API tokens.
    func service(store: DeskStore, notifier: Notifier, routes: AdminRoutes, logger: Logger) throws -> any Service {
        let console = try WebConsole.router(
            store: store, notifier: notifier,
            network: ConsoleNetwork(https: tls != nil, trustLoopbackProxy: trustLoopbackProxy),
            admin: ConsoleAdminServices(
                statusBoard: routes.statusBoard, supervisor: routes.supervisor, requestRouter: routes.requestRouter,
                tokenKeeper: routes.tokenKeeper, verifier: routes.verifier),
            logger: logger)
        let api = Router(context: AdminRequestContext.self)
        api.add(middleware: AdminErrorMiddleware())
        api.add(middleware: APITokenMiddleware(store: store))
        routes.register(on: api)
        return Application(
            responder: HTTPListenerResponder(console: console.buildResponder(), api: api.buildResponder()),
            server: try WebConsole.serverBuilder(tls: tls),
            configuration: ApplicationConfiguration(
                address: .hostname(address.host, port: address.port), serverName: "postdesk"),
            logger: logger)
    }
}
