import EntenteCore
import EntenteDomain
import Testing

@Suite("Catalog")
struct CatalogTests {
    static let stages = [
        "prospect", "qualified", "technical-validation", "business-validation", "committed", "closed-won",
        "closed-lost",
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

    @Test(
        "an invalid stage names the problem and every allowed value",
        arguments: ["won", "", "Prospect", "closed_won", " qualified"]
    )
    func invalidStage(stage: String) throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        let problem = try #require(kind.problem(withJoint: "stage", value: stage))
        #expect(problem.contains("'\(stage)'"))
        #expect(problem.contains("stage"))
        for allowed in Self.stages { #expect(problem.contains(allowed), "\(allowed) missing from: \(problem)") }
    }

    @Test(
        "fields without a closed set of values accept anything",
        arguments: ["title", "account", "close_date", "next_steps", "nope"]
    )
    func unconstrained(field: String) throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        #expect(kind.problem(withJoint: field, value: "anything at all") == nil)
        #expect(kind.problem(withJoint: field, value: "") == nil)
    }

    // MARK: typed values

    @Test("a constrained field takes an allowed value as a string or an enumeration", arguments: stages)
    func typedAllowed(stage: String) throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        #expect(kind.problem(withJoint: "stage", value: Value.string(stage)) == nil)
        #expect(kind.problem(withJoint: "stage", value: Value.enumeration(stage)) == nil)
    }

    @Test("a constrained field refuses an unknown string or enumeration, naming the allowed values")
    func typedUnknown() throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        for value in [Value.string("won"), .enumeration("won"), .enumeration(""), .string("Prospect")] {
            let problem = try #require(kind.problem(withJoint: "stage", value: value), "\(value)")
            #expect(problem.contains("stage"))
            for allowed in Self.stages { #expect(problem.contains(allowed), "\(allowed) missing from: \(problem)") }
        }
    }

    @Test("null clears a constrained field: it is always accepted")
    func typedNull() throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        #expect(kind.problem(withJoint: "stage", value: Value.null) == nil)
        #expect(kind.problem(withJoint: "title", value: Value.null) == nil)
    }

    @Test("a constrained field refuses every other kind of value, naming the kind")
    func typedOtherKinds() throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        let others: [Value] = [
            .integer(1), .boolean(true), .decimal(try #require(DecimalNumber("1.5"))),
            .money(try #require(Money("1 USD"))),
            .date(try #require(CalendarDate("2027-03-31"))), .timestamp(0),
            .reference(ObjectID(raw: ID128(high: 1, low: 1))),
        ]
        for value in others {
            let problem = try #require(kind.problem(withJoint: "stage", value: value), "\(value.kindName)")
            #expect(problem.contains("stage"))
            #expect(problem.contains(value.kindName), "\(problem)")
        }
    }

    @Test("an unconstrained field takes a value of any kind")
    func typedUnconstrained() throws {
        let kind = try #require(Catalog.kind(named: "opportunity"))
        let values: [Value] = [
            .null, .string("anything"), .string(""), .enumeration("anything"), .integer(-1), .boolean(false),
            .decimal(try #require(DecimalNumber("-0.001"))), .money(try #require(Money("EUR 12"))),
            .date(try #require(CalendarDate("2024-02-29"))), .timestamp(-1),
            .reference(ObjectID(raw: ID128(high: 2, low: 3))),
        ]
        for field in ["title", "close_date", "account", "nope"] {
            for value in values {
                #expect(kind.problem(withJoint: field, value: value) == nil, "\(field) \(value.kindName)")
            }
        }
    }
}
