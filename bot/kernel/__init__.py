"""What every capability shares and none owns: the clock, new ids and the names processes lease
work under. One definition each, so a test or a process that needs another clock or name has one
place to look."""
