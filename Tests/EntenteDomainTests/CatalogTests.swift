import EntenteDomain
import Testing

@Suite("Catalog")
struct CatalogTests {
    static let stages = [
        "prospect", "qualified", "technical-validation", "business-validation", "committed", "closed-won", "closed-lost",
    ]

    @Test("the opportunity kind is known, with its joint fields and title")
    func opportunity() throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        #expect(kind.name == "opportunity")
        #expect(kind == Catalog.opportunity)
        #expect(kind.jointFields.contains("stage"))
        #expect(kind.jointFields.contains(kind.titleField))
        #expect(!kind.summary.isEmpty)
        #expect(Catalog.all.contains(kind))
    }

    @Test("unknown kinds are nil", arguments: ["", "Opportunity", "opportunities", "lead ", "unknown"])
    func unknownKind(name: String) {
        #expect(Catalog.kind(named: name) == nil)
    }

    @Test("kind names are unique and every constrained field is a joint field")
    func catalogConsistency() {
        #expect(Set(Catalog.all.map(\.name)).count == Catalog.all.count)
        for kind in Catalog.all {
            for field in kind.allowedValues.keys { #expect(kind.jointFields.contains(field), "\(kind.name).\(field)") }
            #expect(kind.jointFields.contains(kind.titleField))
        }
    }

    @Test("every allowed stage is accepted", arguments: stages)
    func validStage(stage: String) throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        #expect(kind.problem(withJoint: "stage", value: stage) == nil)
    }

    @Test("an invalid stage names the problem and every allowed value", arguments: ["won", "", "Prospect", "closed_won", " qualified"])
    func invalidStage(stage: String) throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        let problem = try #require(kind.problem(withJoint: "stage", value: stage))
        #expect(problem.contains("'\(stage)'"))
        #expect(problem.contains("stage"))
        for allowed in Self.stages { #expect(problem.contains(allowed), "\(allowed) missing from: \(problem)") }
    }

    @Test("fields without a closed set of values accept anything", arguments: ["title", "account", "close_date", "next_steps", "nope"])
    func unconstrained(field: String) throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        #expect(kind.problem(withJoint: field, value: "anything at all") == nil)
        #expect(kind.problem(withJoint: field, value: "") == nil)
    }
}
