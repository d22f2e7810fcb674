import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectedByTags } from '../../../src/executor/tags.js';

/** [task tags, --tags, --skip-tags, runs?] */
const CASES: [string[], string[], string[], boolean][] = [
  [[], [], [], true],
  [['web'], [], [], true],
  [['never'], [], [], false],
  [['never', 'debug'], ['debug'], [], true],
  [['never'], ['all'], [], false],
  [['web'], ['all'], [], true],
  [['web'], ['db'], [], false],
  [['web', 'db'], ['db'], [], true],
  [['always'], ['db'], [], true],
  [['always'], [], ['always'], false],
  [['always'], [], ['web'], true],
  [['web'], [], ['web'], false],
  [['web'], ['web'], ['web'], false],
  [[], ['untagged'], [], true],
  [['web'], ['untagged'], [], false],
  [['web'], ['tagged'], [], true],
  [[], ['tagged'], [], false],
  [['web'], [], ['tagged'], false],
  [[], [], ['untagged'], false],
];

test("selectedByTags: Ansible's selection (never, always, all, tagged, untagged; skip-tags first), case by case", () => {
  for (const [tags, only, skip, runs] of CASES)
    assert.equal(
      selectedByTags(tags, only, skip),
      runs,
      `tags ${JSON.stringify(tags)} --tags ${only} --skip-tags ${skip}`,
    );
});
