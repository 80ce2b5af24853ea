import EntenteCore
import EntenteDomain
import Testing

@Suite("Catalog")
struct CatalogTests {
    static let stages = [
        "prospect", "qualified", "technical-validation", "business-validation", "committed", "closed-won",
        "closed-lost",
    ]
    static let kinds = [
        "opportunity", "lead", "account-plan", "sales-plan", "solution", "fund-request", "claim", "program",
    ]

    @Test("every kind of the issue is known by name", arguments: kinds)
    func known(name: String) throws {
        let kind = try #require(Catalog.kind(named: name))
        #expect(kind.name == name)
        #expect(!kind.summary.isEmpty)
        #expect(kind.field(named: kind.titleField)?.placement == .joint, "\(name) title must be joint")
        #expect(kind.field(named: "crm_id")?.placement == .private, "\(name) keeps its CRM id private")
    }

    @Test("unknown kinds are nil", arguments: ["", "Opportunity", "opportunities", "lead ", "unknown"])
    func unknownKind(name: String) {
        #expect(Catalog.kind(named: name) == nil)
    }

    @Test("field names are unique and valid, and each workflow field is a joint choice of its states")
    func catalogConsistency() {
        #expect(Set(Catalog.all.map(\.name)).count == Catalog.all.count)
        for kind in Catalog.all {
            #expect(Set(kind.fields.map(\.name)).count == kind.fields.count, "\(kind.name)")
            for field in kind.fields {
                #expect(FieldKey.isValidName(field.name), "\(kind.name).\(field.name)")
                #expect(!field.summary.isEmpty, "\(kind.name).\(field.name)")
                if case .reference(let target) = field.type {
                    #expect(Catalog.kind(named: target) != nil, "\(kind.name).\(field.name) -> \(target)")
                }
            }
            guard let workflow = kind.workflow else { continue }
            let spec = kind.field(named: workflow.field)
            #expect(spec?.placement == .joint)
            #expect(spec?.type == .choice(workflow.states))
            #expect(workflow.states.contains(workflow.initial))
            #expect(workflow.terminal.isSubset(of: Set(workflow.states)))
            for (from, targets) in workflow.moves {
                #expect(workflow.states.contains(from))
                #expect(!workflow.terminal.contains(from), "\(kind.name): a terminal state has plain moves")
                for target in targets { #expect(workflow.states.contains(target)) }
            }
            for (state, fields) in workflow.requires {
                #expect(workflow.states.contains(state))
                for field in fields { #expect(kind.field(named: field) != nil, "\(kind.name) requires \(field)") }
            }
        }
    }

    @Test("the opportunity keeps deal value, probability and forecast private by default")
    func opportunityPlacement() throws {
        let kind = Catalog.opportunity
        for name in ["amount", "probability", "forecast_category", "notes", "crm_id", "crm_stage"] {
            #expect(kind.field(named: name)?.placement == .private, "\(name)")
        }
        for name in ["title", "account", "type", "stage", "close_date", "next_steps", "use_case", "delivery_models",
            "originating_company", "closed_lost_reason", "on_hold"]
        {
            #expect(kind.field(named: name)?.placement == .joint, "\(name)")
        }
    }

    @Test("every stage is accepted as a string or an enumeration, stored as a string", arguments: stages)
    func validStage(stage: String) throws {
        let kind = Catalog.opportunity
        #expect(kind.check("stage", .string(stage), joint: true) == .success(.string(stage)))
        #expect(kind.check("stage", .enumeration(stage), joint: true) == .success(.string(stage)))
    }

    @Test("an invalid stage names the value and every allowed one", arguments: ["won", "", "Prospect", " qualified"])
    func invalidStage(stage: String) throws {
        let problem = try #require(Catalog.opportunity.problem(withJoint: "stage", value: .string(stage)))
        #expect(problem.contains("'\(stage)'"))
        #expect(problem.contains("stage"))
        for allowed in Self.stages { #expect(problem.contains(allowed), "\(allowed) missing from: \(problem)") }
    }

    @Test("text is read in the field type's canonical form")
    func canonicalText() throws {
        let kind = Catalog.opportunity
        #expect(
            kind.check("close_date", .string("2027-03-31"), joint: true)
                == .success(.date(try #require(CalendarDate("2027-03-31"))))
        )
        #expect(
            kind.check("amount", .string("1250000 USD"), joint: false)
                == .success(.money(try #require(Money("1250000 USD"))))
        )
        #expect(kind.check("probability", .string("40"), joint: false) == .success(.integer(40)))
        #expect(kind.check("on_hold", .string("yes"), joint: true) == .success(.boolean(true)))
        #expect(kind.check("nope", .string("anything"), joint: true) == .success(.string("anything")))
    }

    @Test(
        "a value of the wrong type or out of range is refused with the field and the problem",
        arguments: [
            ("close_date", Value.string("31/03/2027"), true, "close_date"),
            ("close_date", Value.integer(3), true, "date"),
            ("amount", Value.string("lots"), false, "currency"),
            ("probability", Value.integer(101), false, "out of range"),
            ("probability", Value.string("-1"), false, "out of range"),
            ("on_hold", Value.string("maybe"), true, "boolean"),
            ("originating_company", Value.string("Initech"), true, "company id"),
            ("lead", Value.string("abc"), true, "lead id"),
            ("delivery_models", Value.string("saas"), true, "set"),
        ]
    )
    func refused(field: String, value: Value, joint: Bool, mention: String) throws {
        guard case .failure(let problem) = Catalog.opportunity.check(field, value, joint: joint) else {
            Issue.record("\(field) accepted \(value)")
            return
        }
        #expect(problem.message.contains(field), "\(problem)")
        #expect(problem.message.contains(mention), "\(problem)")
    }

    @Test("a field kept per company cannot be written as a joint field", arguments: ["amount", "probability", "notes"])
    func privateNotJoint(field: String) throws {
        guard case .failure(let problem) = Catalog.opportunity.check(field, .string("1"), joint: true) else {
            Issue.record("\(field) was accepted as joint")
            return
        }
        #expect(problem.message.contains("own field"))
        #expect(Catalog.opportunity.check("notes", .string("x"), joint: false) == .success(.string("x")))
    }

    @Test("null (a deletion) is always accepted")
    func null() {
        for kind in Catalog.all {
            for field in kind.fields where !field.type.isSet {
                #expect(
                    kind.check(field.name, .null, joint: field.placement == .joint) == .success(.null),
                    "\(kind.name).\(field.name)"
                )
            }
        }
    }
}
