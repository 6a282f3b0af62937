import Hummingbird
import PostdeskWire
import ServiceDesk

/// `/v1/projects/{project}/customers` and `/customer-rules`: a project's customers and its allow and block lists.
struct CustomerRoutes: Sendable {
    let store: DeskStore

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.post("/v1/projects/:project/customers") { request, context in
            let body = try await request.decode(as: CustomerBody.self, context: context)
            let customer = try await store.addCustomer(
                projectKey: try context.parameters.require("project"), address: body.address, name: body.name)
            return created(CustomerView(address: customer.address, name: customer.name))
        }
        router.get("/v1/projects/:project/customers") { _, context in
            try await store.customers(projectKey: try context.parameters.require("project")).map {
                CustomerView(address: $0.address, name: $0.name)
            }
        }
        router.post("/v1/projects/:project/customer-rules") { request, context in
            let body = try await request.decode(as: CustomerRuleBody.self, context: context)
            let pattern = try await store.addCustomerRule(
                projectKey: try context.parameters.require("project"), kind: body.kind, pattern: body.pattern)
            return created(CustomerRuleBody(kind: body.kind, pattern: pattern))
        }
        router.delete("/v1/projects/:project/customer-rules") { request, context in
            let body = try await request.decode(as: CustomerRuleBody.self, context: context)
            try await store.removeCustomerRule(
                projectKey: try context.parameters.require("project"), kind: body.kind, pattern: body.pattern)
            return body
        }
        router.get("/v1/projects/:project/customer-rules") { _, context in
            try await store.customerRules(projectKey: try context.parameters.require("project")).map {
                CustomerRuleBody(kind: $0.kind, pattern: $0.pattern)
            }
        }
    }
}
