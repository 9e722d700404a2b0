# Writes rules/builtin.yml as a C array (run at build time: cmake -P).
# IN: the YAML file, OUT: the generated .c file, NAME: the array's name
# (default wh_builtin_rules_yml; NAME_len holds its length).
if(NOT NAME)
  set(NAME wh_builtin_rules_yml)
endif()
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" body "${body}")
file(WRITE "${OUT}.tmp" "/* Generated from ${IN} by lib/detect/embed.cmake. */\n#include <stddef.h>\nconst unsigned char ${NAME}[] = {\n${body}0x00};\nconst size_t ${NAME}_len = ${bytes};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
