import EmailChannel
import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceDesk
import Testing

@testable import AdminAPI

/// docs/openapi.json against the routes the server registers: every route is documented and every documented
/// operation is a route, the operations only the admin socket answers are marked so, and the document holds
/// together (each operation says what it does and answers, each `$ref` names a schema that is there).
@Suite("The OpenAPI document")
struct OpenAPIDocumentTests {
    static let logger = Logger(label: "OpenAPIDocumentTests")

    /// The admin routes as `serve` builds them, over an in-memory store (nothing runs).
    static func routes(_ store: DeskStore) -> AdminRoutes {
        let statusBoard = ChannelStatusBoard()
        let router = RequestRouter(store: store, logger: logger)
        let tokenKeeper = OAuthTokenKeeper(store: store, logger: logger)
        return AdminRoutes(
            store: store, linker: MailboxLinker(store: store, logger: logger),
            supervisor: ChannelSupervisor(store: store, router: router, statusBoard: statusBoard, logger: logger),
            notifier: Notifier(store: store, tokenKeeper: tokenKeeper, logger: logger), statusBoard: statusBoard,
            verifier: ChannelVerifier(store: store, tokenKeeper: tokenKeeper, logger: logger), requestRouter: router,
            tokenKeeper: tokenKeeper, flows: OAuthFlows(store: store, logger: logger), consoleAddress: nil,
            logger: logger)
    }

    /// "GET /v1/requests/{key}" for each route of `router`, in OpenAPI's path template syntax.
    static func operations(_ router: Router<AdminRequestContext>) -> Set<String> {
        Set(
            router.routes.map { route in
                let path = route.path.description.split(separator: "/", omittingEmptySubsequences: false).map {
                    $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0)
                }.joined(separator: "/")
                return "\(route.method.rawValue) \(path.hasPrefix("/") ? path : "/" + path)"
            })
    }

    static func document() throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/openapi.json")
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("every route is documented, every documented operation is a route, socket-only ones are marked")
    func matchesRoutes() async throws {
        let store = try DeskStore.inMemory()
        let routes = Self.routes(store)
        let registry = PrometheusCollectorRegistry()
        let socket = PostdeskServer.socketRouter(
            routes: routes,
            metricsEndpoint: MetricsEndpoint(
                registry: registry, metrics: PostdeskMetrics(factory: MetricsEndpoint.factory(for: registry)),
                statusBoard: ChannelStatusBoard(), store: store, logger: Self.logger),
            store: store, secretKeyFile: URL(fileURLWithPath: "/nonexistent/secret.key"))
        let listener = Router(context: AdminRequestContext.self)
        routes.register(on: listener)
        let socketOperations = Self.operations(socket)
        let listenerOperations = Self.operations(listener)
        print("OPERATIONS\n" + socketOperations.sorted().joined(separator: "\n"))

        let document = try Self.document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented = Set<String>()
        var socketOnly = Set<String>()
        for (path, item) in paths {
            for (method, value) in item where ["get", "put", "post", "delete", "patch"].contains(method) {
                let operation = "\(method.uppercased()) \(path)"
                documented.insert(operation)
                let body = try #require(value as? [String: Any], "\(operation)")
                #expect((body["summary"] as? String)?.isEmpty == false, "\(operation) has a summary")
                #expect((body["responses"] as? [String: Any])?.isEmpty == false, "\(operation) has responses")
                if body["x-postdesk-socket-only"] as? Bool == true { socketOnly.insert(operation) }
                let parameters = (body["parameters"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                let captured = path.split(separator: "/").filter { $0.hasPrefix("{") }.map {
                    String($0.dropFirst().dropLast())
                }
                #expect(Set(captured).isSubset(of: Set(parameters)), "\(operation) documents its path parameters")
            }
        }
        #expect(socketOperations.subtracting(documented).sorted() == [], "routes the document leaves out")
        #expect(documented.subtracting(socketOperations).sorted() == [], "documented operations that are no route")
        #expect(socketOnly == socketOperations.subtracting(listenerOperations), "operations only the socket answers")
    }

    @Test("every $ref names a schema of the document")
    func references() throws {
        let document = try Self.document()
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        var missing: [String] = []
        func walk(_ value: Any) {
            if let object = value as? [String: Any] {
                if let ref = object["$ref"] as? String {
                    let name = ref.replacingOccurrences(of: "#/components/schemas/", with: "")
                    if schemas[name] == nil { missing.append(ref) }
                }
                object.values.forEach(walk)
            } else if let array = value as? [Any] {
                array.forEach(walk)
            }
        }
        walk(document)
        #expect(missing == [])
    }
}
