import Foundation
import Hummingbird
import ServiceDesk

/// `/v1/oauth/apps`: the admin's OAuth 2.0 app registrations, added, listed (never with the secret) and removed.
struct OAuthAppRoutes: Sendable {
    let store: DeskStore

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.post { request, context in
            let body = try await request.decode(as: OAuthAppBody.self, context: context)
            return created(OAuthAppView(try await store.addOAuthApp(try body.draft())))
        }
        group.get { _, _ in
            try await store.oauthApps().map(OAuthAppView.init)
        }
        group.delete(":name") { _, context in
            let name = try context.parameters.require("name")
            try await store.removeOAuthApp(name: name)
            return OAuthAppRemoved(removed: name)
        }
    }
}

extension OAuthAppView: ResponseEncodable {}
extension OAuthAppRemoved: ResponseEncodable {}
