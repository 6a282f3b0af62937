import Hummingbird
import PostdeskWire
import ServiceDesk

/// `/v1/projects`: projects, their request types and their queues.
struct ProjectRoutes: Sendable {
    let store: DeskStore

    func addRoutes(to router: Router<AdminRequestContext>) {
        router.post("/v1/projects") { request, context in
            let body = try await request.decode(as: CreateProjectBody.self, context: context)
            let project = try await store.createProject(key: body.key, name: body.name, signup: body.signup)
            return created(ProjectView(key: project.key, name: project.name, signup: project.signup))
        }
        router.get("/v1/projects") { _, _ in
            try await store.projects().map { ProjectView(key: $0.key, name: $0.name, signup: $0.signup) }
        }
        router.post("/v1/projects/:project/request-types") { request, context in
            let body = try await request.decode(as: RequestTypeBody.self, context: context)
            let type = try await store.addRequestType(
                projectKey: try context.parameters.require("project"), name: body.name, fields: body.fields)
            return created(RequestTypeView(name: type.name, fields: type.fields, emailProblem: type.unsuitability))
        }
        router.get("/v1/projects/:project/request-types") { _, context in
            try await store.requestTypes(projectKey: try context.parameters.require("project")).map {
                RequestTypeView(name: $0.name, fields: $0.fields, emailProblem: $0.unsuitability)
            }
        }
        router.get("/v1/projects/:project/queue") { _, context in
            try await store.queue(projectKey: try context.parameters.require("project")).map {
                QueueRowView(
                    key: $0.key, summary: $0.summary, status: $0.status.rawValue, reporter: $0.reporter,
                    created: $0.createdAt)
            }
        }
    }
}
