use super::groups::GroupPage;
use super::policies::{document, pretty_json, PolicyPage};
use super::roles::RolePage;
use super::*;
use crate::pages::tests::session;

fn row(name: &str, arn: &str, created: &str) -> Row {
    Row {
        name: name.into(),
        arn: arn.into(),
        created: created.into(),
    }
}

fn listed(rows: Vec<Row>) -> Listed {
    Listed { rows, error: None }
}

const LOOK: &str = "arn:aws:iam::000000000000:policy/team/look-only";

#[test]
fn documents_are_decoded_and_indented_in_their_own_order() {
    // As IAM sends it: every character but the unreserved ones percent-encoded.
    let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A\
                   %22a%2C%7B%5C%22b%5C%22%3A%20%5B%5D%22%2C%22Effect%22%3A%22Allow%22%2C\
                   %22Action%22%3A%5B%5D%2C%22Condition%22%3A%7B%7D%7D%5D%7D";
    assert_eq!(
        document(encoded),
        r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "a,{\"b\": []",
      "Effect": "Allow",
      "Action": [],
      "Condition": {}
    }
  ]
}"#
    );
    assert_eq!(
        pretty_json(" [ 1 , true,null , \"x y\" ] ").unwrap(),
        "[\n  1,\n  true,\n  null,\n  \"x y\"\n]"
    );
    // Not JSON: shown as it is, decoded.
    assert_eq!(pretty_json("{\"a\":"), None);
    assert_eq!(document("not%20json%7B"), "not json{");
}

#[test]
fn an_answers_lists_are_read_by_their_element_names() {
    // GetGroup's answer, as crates/api/src/iam/identities.rs writes it.
    let xml = r#"<GetGroupResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
      <GetGroupResult>
        <Group><Path>/</Path><GroupName>ops</GroupName><GroupId>AGPA1</GroupId>
          <Arn>arn:aws:iam::000000000000:group/ops</Arn><CreateDate>2026-12-03T06:00:00Z</CreateDate></Group>
        <Users><member><Path>/</Path><UserName>carol</UserName><UserId>AIDA1</UserId>
          <Arn>arn:aws:iam::000000000000:user/carol</Arn><CreateDate>2026-12-03T06:00:01Z</CreateDate></member></Users>
        <IsTruncated>false</IsTruncated>
      </GetGroupResult>
      <ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>
    </GetGroupResponse>"#;
    let a = Answer::parse(xml).unwrap();
    assert_eq!(
        a.find("Group").unwrap().get("Arn"),
        "arn:aws:iam::000000000000:group/ops"
    );
    let members = rows(&a, "Users", "UserName");
    assert_eq!(members.len(), 1);
    assert_eq!(
        (members[0].name.as_str(), members[0].arn.as_str()),
        ("carol", "arn:aws:iam::000000000000:user/carol")
    );
}

#[test]
fn the_iam_page_links_users_groups_and_roles_by_name_and_policies_by_arn() {
    let page = IamPage {
        chrome: Chrome::for_session("IAM", "iam", &session()),
        users: listed(vec![row(
            "carol",
            "arn:aws:iam::000000000000:user/carol",
            "t1",
        )]),
        groups: listed(vec![row(
            "a<b",
            "arn:aws:iam::000000000000:group/a<b",
            "t2",
        )]),
        roles: listed(vec![row("r1", "arn:aws:iam::000000000000:role/x/r1", "t3")]),
        policies: listed(vec![row("look-only", LOOK, "t4")]),
        user: Sent::default(),
        group: Sent::refused(
            "a<b",
            "The specified value for groupName is invalid.".into(),
        ),
    };
    let out = page.render().unwrap();
    assert!(
        out.contains(r#"<a href="/console/iam/users/carol">carol</a>"#),
        "{out}"
    );
    assert!(
        out.contains(r#"<a href="/console/iam/groups/a%3Cb">a&#60;b</a>"#),
        "{out}"
    );
    assert!(
        out.contains(r#"<a href="/console/iam/roles/r1">r1</a>"#),
        "{out}"
    );
    assert!(
        out.contains(
            r#"<a href="/console/iam/policies/arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fteam%2Flook-only">look-only</a>"#
        ),
        "{out}"
    );
    assert!(!out.contains("a<b"), "escaped: {out}");
    // The refused group name is kept, the input marked, IAM's words beside it.
    assert!(
        out.contains(r#"id="group_name" name="group_name" value="a&#60;b" autocomplete="off" spellcheck="false" aria-invalid="true" aria-describedby="group-error">"#),
        "{out}"
    );
    assert!(out.contains(
        r#"<p class="error" id="group-error" role="alert">The specified value for groupName is invalid.</p>"#
    ));
    assert!(!out.contains(r#"aria-describedby="create-error""#));
    assert!(out.contains(r#"<label for="group_name">"#));
}

fn group_page() -> GroupPage {
    GroupPage {
        chrome: Chrome::for_session("IAM group ops", "iam", &session()),
        name: "ops".into(),
        path: "/console/iam/groups/ops".into(),
        arn: "arn:aws:iam::000000000000:group/ops".into(),
        members: listed(vec![
            row("carol", "arn:aws:iam::000000000000:user/carol", "t"),
            row("<dave>", "arn:aws:iam::000000000000:user/<dave>", "t"),
        ]),
        attached: listed(vec![row("look-only", LOOK, "")]),
        add: Sent::default(),
        remove: Sent::default(),
        attach: Sent::default(),
    }
}

#[test]
fn a_groups_page_lists_members_with_a_remove_button_each_and_its_policies() {
    let out = group_page().render().unwrap();
    assert!(out.contains("<h1>Group ops</h1>"), "{out}");
    assert!(out.contains("<code>arn:aws:iam::000000000000:group/ops</code>"));
    assert!(
        out.contains(r#"<a href="/console/iam/users/carol">carol</a>"#),
        "{out}"
    );
    let csrf = "c".repeat(64);
    let remove = format!(
        r#"<form method="post" action="/console/iam/groups/ops" class="inline">
      <input type="hidden" name="csrf" value="{csrf}">
      <input type="hidden" name="action" value="remove-user">
      <input type="hidden" name="user_name" value="carol">
      <button type="submit" aria-label="Remove carol from ops">Remove</button>"#
    );
    assert!(out.contains(&remove), "{out}");
    assert!(out.contains(r#"value="&#60;dave&#62;""#), "{out}");
    assert!(!out.contains("<dave>"), "{out}");
    assert!(out.contains(r#"<label for="add_user_name">User to add</label>"#));
    assert!(out.contains(r#"<label for="policy_arn">Policy ARN to attach</label>"#));
    // Attached policies link to the policy's page, without a creation date column.
    assert!(out.contains(
        r#"<a href="/console/iam/policies/arn%3Aaws%3Aiam%3A%3A000000000000%3Apolicy%2Fteam%2Flook-only">look-only</a>"#
    ));
    assert_eq!(out.matches(r#"<th scope="col">Created</th>"#).count(), 0);
    // Every form carries the token: three member-independent forms (sign-out, add, attach)
    // and a remove button per member.
    assert_eq!(
        out.matches(&format!(r#"name="csrf" value="{csrf}""#))
            .count(),
        5
    );
    assert!(!out.contains("aria-invalid"));
}

#[test]
fn a_refusal_is_shown_beside_the_form_that_was_sent() {
    let mut page = group_page();
    page.add = Sent::refused("eve", "The user with name eve cannot be found.".into());
    let out = page.render().unwrap();
    assert!(out.contains(r#"id="add_user_name" name="user_name" value="eve" autocomplete="off" spellcheck="false" aria-invalid="true" aria-describedby="add-error">"#), "{out}");
    assert!(out.contains(
        r#"<p class="error" id="add-error" role="alert">The user with name eve cannot be found.</p>"#
    ));

    let mut page = group_page();
    page.remove = Sent::refused(
        "carol",
        "The user with name carol cannot be found in group ops.".into(),
    );
    let out = page.render().unwrap();
    assert!(
        out.contains(r#"aria-label="Remove carol from ops" aria-describedby="remove-error">"#),
        "{out}"
    );
    assert!(!out.contains(r#"aria-label="Remove &#60;dave&#62; from ops" aria-describedby"#));
    assert!(out.contains(r#"<p class="error" id="remove-error" role="alert">The user with name carol cannot be found in group ops.</p>"#));

    let mut page = group_page();
    page.attach = Sent::refused(
        "nope",
        "Policy nope does not exist or is not attachable.".into(),
    );
    let out = page.render().unwrap();
    assert!(out.contains(r#"name="policy_arn" value="nope" autocomplete="off" spellcheck="false" placeholder="arn:aws:iam::000000000000:policy/..." aria-invalid="true" aria-describedby="attach-error">"#), "{out}");
    assert!(out.contains(r#"<p class="error" id="attach-error" role="alert">Policy nope does not exist or is not attachable.</p>"#));
}

#[test]
fn a_roles_page_shows_its_trust_policy_escaped_and_indented() {
    let trust = document(
        "%7B%22Statement%22%3A%5B%7B%22Principal%22%3A%7B%22Service%22%3A%22rds.amazonaws.com%22%7D%2C%22Sid%22%3A%22%3C%2Fpre%3E%22%7D%5D%7D",
    );
    let page = RolePage {
        chrome: Chrome::for_session("IAM role r1", "iam", &session()),
        name: "r1".into(),
        path: "/console/iam/roles/r1".into(),
        arn: "arn:aws:iam::000000000000:role/r1".into(),
        description: String::new(),
        trust,
        attached: listed(vec![]),
        attach: Sent::default(),
    };
    let out = page.render().unwrap();
    assert!(out.contains(
        "<pre class=\"document\" tabindex=\"0\" aria-labelledby=\"trust-heading\"><code>{\n  &#34;Statement&#34;: [\n    {\n      &#34;Principal&#34;: {\n        &#34;Service&#34;: &#34;rds.amazonaws.com&#34;\n      },\n      &#34;Sid&#34;: &#34;&#60;/pre&#62;&#34;\n    }\n  ]\n}</code></pre>"
    ), "{out}");
    assert!(
        out.contains(r#"<form method="post" action="/console/iam/roles/r1" class="card narrow">"#)
    );
    assert!(out.contains(
        r#"href="/console/iam/simulate?principal_arn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole/r1""#
    ), "{out}");
}

#[test]
fn a_policys_page_shows_its_document_or_why_not() {
    let page = |document| PolicyPage {
        chrome: Chrome::for_session("IAM policy look-only", "iam", &session()),
        name: "look-only".into(),
        arn: LOOK.into(),
        description: String::new(),
        version: "v2".into(),
        attachments: "1".into(),
        document,
    };
    let out = page(Ok("{\n  &\n}".into())).render().unwrap();
    assert!(out.contains("<dt>Default version</dt><dd>v2</dd>"), "{out}");
    assert!(out.contains("<dd>1 entity</dd>"), "{out}");
    assert!(out.contains("<code>{\n  &#38;\n}</code></pre>"), "{out}");
    let out = page(Err("User: arn:aws:iam::000000000000:user/bob is not authorized to perform: iam:GetPolicyVersion".into()))
        .render()
        .unwrap();
    assert!(!out.contains("<pre"), "{out}");
    assert!(out.contains(r#"<p class="denied">User: arn:aws:iam::000000000000:user/bob is not authorized to perform: iam:GetPolicyVersion</p>"#));
}

#[test]
fn redirects_escape_a_name_as_the_pages_links_do() {
    assert_eq!(segment("ferry-s3-import"), "ferry-s3-import");
    assert_eq!(segment("a b/c+d=e,f@g"), "a%20b%2Fc%2Bd%3De%2Cf%40g");
    for name in ["ferry-s3-import", "a b/c+d=e,f@g", "x_y.z~é"] {
        assert_eq!(
            segment(name),
            askama::filters::urlencode_strict(name).unwrap().to_string()
        );
    }
}
