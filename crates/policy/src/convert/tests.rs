#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

/// The seed's examples (EPrints documentation, "User roles.pl"), as a repository would
/// write them, with EPrints' own habits: comma-chained statements, both quotes, `qw`.
const SEED: &str = r#"# cfg.d/user_roles.pl
$c->{roles}->{"approve-hat"} = [
       "eprint/buffer/view:editor",
       "eprint/buffer/summary:editor",
       "eprint/buffer/details:editor",
       "eprint/buffer/move_archive:editor",
];

$c->{user_roles}->{user} = [
        'general',
        'edit-own-record',
        'saved-searches',
        'set-password',
        'deposit',
        'change-email',
        'approve-hat',
        '+eprint/archive/edit:owner',
],
$c->{user_roles}->{minuser} = [qw/ general set-password /];
push @{$c->{user_roles}->{editor}}, 'approve-hat'; # on top of the default editor
$c->{public_roles} = [ "+eprint/archive/rest/get", '+subject/rest/get', ];
=pod

Anything here is documentation.

=cut
"#;

#[test]
fn the_seed_converts_and_validates() {
    let yaml = convert_user_roles(SEED, "user_roles.pl").unwrap();
    let config =
        PolicyConfig::with_file(&yaml, "user_roles.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let role = config
        .roles()
        .iter()
        .find(|(n, _)| n.as_str() == "approve-hat")
        .unwrap()
        .1;
    assert_eq!(role.entries.len(), 4);
    let ty = |name: &str| {
        config
            .types()
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .unwrap()
            .1
            .entries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ty("user"),
        [
            "general",
            "edit-own-record",
            "saved-searches",
            "set-password",
            "deposit",
            "change-email",
            "approve-hat",
            "+eprint/archive/edit:owner"
        ]
    );
    assert_eq!(ty("minuser"), ["general", "set-password"]);
    // A push onto a type the file does not define starts from the built-in one.
    let builtin_editor: Vec<String> = PolicyConfig::builtin()
        .types()
        .iter()
        .find(|(n, _)| n.as_str() == "editor")
        .unwrap()
        .1
        .entries
        .iter()
        .map(ToString::to_string)
        .collect();
    let editor = ty("editor");
    assert_eq!(editor.last().map(String::as_str), Some("approve-hat"));
    assert_eq!(editor[..editor.len() - 1], builtin_editor[..]);
    // Every entry says where it came from.
    assert!(
        yaml.contains("- eprint/buffer/view:editor  # user_roles.pl:3"),
        "{yaml}"
    );
    assert!(
        yaml.contains("- +eprint/archive/edit:owner  # user_roles.pl:17"),
        "{yaml}"
    );
    assert!(yaml.contains("- approve-hat  # user_roles.pl:20"), "{yaml}");
    assert!(yaml.contains("built in"), "{yaml}");
    assert!(
        yaml.contains("- +subject/rest/get  # user_roles.pl:21"),
        "{yaml}"
    );
}

fn errors(text: &str) -> Vec<String> {
    convert_user_roles(text, "user_roles.pl")
        .unwrap_err()
        .0
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn the_unquoted_key_names_its_line() {
    let e = errors("# x\n$c->{roles}->{approve-hat} = [\n  'eprint/buffer/view:editor',\n];\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("line 2: the key `{approve-hat}` must be quoted"),
        "{e:?}"
    );
    assert!(e[0].contains("{\"approve-hat\"}"), "{e:?}");
}

#[test]
fn a_role_in_user_roles_names_its_line() {
    let e =
        errors("$c->{user_roles}->{\"approve-hat\"} = [\n  \"eprint/buffer/view:editor\",\n];\n");
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with("line 2: `eprint/buffer/view:editor`"),
        "{e:?}"
    );
    assert!(e[0].contains("$c->{roles}->{\"approve-hat\"}"), "{e:?}");
    assert!(
        e[0].contains("Ensure the role is in {roles} not {user_roles}!"),
        "{e:?}"
    );
}

#[test]
fn anything_else_is_an_error_naming_the_line_and_every_problem_is_reported() {
    let e = errors(concat!(
        "$c->{roles}->{'ok'} = ['user/view'];\n",
        "my $x = 1;\n",
        "$c->{user_roles}->{user} = [ \"$prefix/view\" ];\n",
        "$c->{roles}->{'a'} = [ map { $_ } @list ];\n",
        "$c->{other_setting} = [ 'x' ];\n",
        "$c->{user_roles}->{user} = [ general ];\n",
        "$c->{roles}->{'b'} = [ 'x' 'y' ];\n",
    ));
    let lines: std::collections::BTreeSet<&str> =
        e.iter().filter_map(|m| m.split(':').next()).collect();
    assert_eq!(
        lines.into_iter().collect::<Vec<_>>(),
        ["line 2", "line 3", "line 4", "line 5", "line 6", "line 7"],
        "{e:#?}"
    );
    let at = |n: u32| {
        e.iter()
            .find(|m| m.starts_with(&format!("line {n}: ")))
            .unwrap()
    };
    assert!(at(2).contains("cannot read `my`"), "{e:?}");
    assert!(at(3).contains("interpolates"), "{e:?}");
    assert!(at(5).contains("other_setting"), "{e:?}");
    assert!(at(6).contains("bare word `general`"), "{e:?}");
    assert!(at(7).contains("expected `,`"), "{e:?}");
}

#[test]
fn fat_commas_trailing_commas_push_with_parentheses_and_reassignment() {
    let yaml = convert_user_roles(
        concat!(
            "$c->{roles}{'r'} = [ 'user/view' => 'user/edit:owner', , ];\n",
            "push(@{ $c->{roles}->{'r'} }, qw( user/history:owner ));\n",
            "$c->{user_roles}->{t} = [ 'general' ];\n",
            "$c->{user_roles}->{t} = [ 'r' ];\n",
        ),
        "f.pl",
    )
    .unwrap();
    let config = PolicyConfig::with_file(&yaml, "x.yaml").unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let r = &config
        .roles()
        .iter()
        .find(|(n, _)| n.as_str() == "r")
        .unwrap()
        .1;
    assert_eq!(
        r.entries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["user/view", "user/edit:owner", "user/history:owner"]
    );
    let t = &config
        .types()
        .iter()
        .find(|(n, _)| n.as_str() == "t")
        .unwrap()
        .1;
    // The later assignment replaces the earlier one, as in Perl.
    assert_eq!(
        t.entries
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["r"]
    );
    assert!(yaml.contains("set at f.pl:3; set at f.pl:4"), "{yaml}");
}
